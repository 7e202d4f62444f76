//! The columns a split reads, once, and the images' content hashes (from the table, the cache or
//! the files).

use std::path::Path;

use polars::prelude::*;
use rayon::prelude::*;

use crate::columns;
use crate::error::{PolarsContext, Result};
use crate::frame;

/// The columns a split needs, read once.
pub(super) struct Rows {
    pub(super) path: Vec<String>,
    pub(super) split: Vec<String>,
    pub(super) class: Vec<String>,
    pub(super) patient: Vec<Option<String>>,
}

/// Reads the columns; `needed` must be present (named in the error with `what`), the others
/// default to empty (`split`, `class`) or null (`patient`).
pub(super) fn read_rows(images: &DataFrame, needed: &[&str], what: &str) -> Result<Rows> {
    frame::require(images, needed, what)?;
    let strings = |name: &str| -> Result<Vec<Option<String>>> {
        if !frame::has_column(images, name) {
            return Ok(vec![None; images.height()]);
        }
        frame::optional_strings(images, name)
    };
    let unwrap = |v: Vec<Option<String>>| {
        v.into_iter()
            .map(Option::unwrap_or_default)
            .collect::<Vec<_>>()
    };
    let patient = strings(columns::PATIENT)?;
    Ok(Rows {
        path: unwrap(strings(columns::PATH)?),
        split: unwrap(strings(columns::SPLIT)?),
        class: unwrap(strings(columns::CLASS)?),
        patient,
    })
}

/// The `content_hash` column, when the table has one.
pub(super) fn content_hashes(images: &DataFrame) -> Result<Option<Vec<Option<String>>>> {
    if !frame::has_column(images, columns::CONTENT_HASH) {
        return Ok(None);
    }
    let column = frame::column(images, columns::CONTENT_HASH)?;
    let hashes = column.str().ctx("reading content hashes")?;
    Ok(Some(hashes.iter().map(|h| h.map(str::to_string)).collect()))
}

/// A 128-bit XXH3 of each file's bytes (null when it cannot be read), in parallel, reused from
/// the file facts cache in `folder` while a file keeps its size and modification time.
pub(super) fn hash_files(paths: &[String], folder: &Path) -> Vec<Option<String>> {
    // A table of paths that are not files (a hand-made one, say) has nothing to hash or cache.
    if !paths.iter().any(|p| Path::new(p).is_file()) {
        return vec![None; paths.len()];
    }
    let mut cache = crate::facts::FileFacts::open(folder);
    let hashed: Vec<(String, Option<crate::files::Stamp>, Option<String>, bool)> = paths
        .par_iter()
        .map(|p| {
            let key = crate::files::key(p);
            let stamp = crate::files::Stamp::of(Path::new(p));
            if let Some(hash) = stamp.as_ref().and_then(|s| cache.hash(&key, s)) {
                return (key, stamp, Some(hash), false);
            }
            let hash = std::fs::read(Path::new(p))
                .ok()
                .map(|b| format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&b)));
            (key, stamp, hash, true)
        })
        .collect();
    let mut hashes = Vec::with_capacity(hashed.len());
    for (key, stamp, hash, computed) in hashed {
        if let (true, Some(stamp), Some(hash)) = (computed, stamp, &hash) {
            cache.set_hash(&key, &stamp, hash.clone());
        }
        hashes.push(hash);
    }
    cache.save();
    hashes
}
