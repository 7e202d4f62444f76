//! How long header facts and content hashes take on a dataset, without and with the per-file
//! cache: `cargo run --release --example facts_timing -- DATA_DIR` (uses a fresh cache folder).

use std::time::Instant;

use xray_lab::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::env::args()
        .nth(1)
        .ok_or("usage: facts_timing DATA_DIR")?;
    let cache = tempfile::tempdir()?;
    std::env::set_var("XRAY_LAB_CACHE", cache.path());
    let images = load::scan(&root)?.images;
    for run in ["first (no cache)", "second (cached)"] {
        let start = Instant::now();
        let facts = facts::facts(&images)?;
        let facts_s = start.elapsed().as_secs_f64();
        let start = Instant::now();
        split::add_content_hash(&images)?;
        let hash_s = start.elapsed().as_secs_f64();
        println!(
            "{run}: facts of {} files {:.0} ms, content hashes {:.0} ms",
            facts.height(),
            facts_s * 1e3,
            hash_s * 1e3
        );
    }
    Ok(())
}
