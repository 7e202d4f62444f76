//! Occlusion maps, timed as a notebook user waits for them: `Model::occlusion(file, 15, 5)` on
//! one test film (the file decoded with the model's settings, 784 covered copies scored, the
//! map averaged), per model; and the report's averages (20 test films per class) per model.
//!
//! ```sh
//! cargo run --release --example occlusion_bench -- DATA_ROOT [FILMS]
//! ```
//! Trains every model as `xray-lab report` does (features from the cache), then times FILMS
//! (default 9) maps per model one after another and prints the median per map, and one average
//! of 20 films per class per model. Prints a Markdown table.

use std::time::Instant;

use xray_lab::prelude::*;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let root = args
        .next()
        .ok_or("usage: occlusion_bench DATA_ROOT [FILMS]")?;
    let films: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(9);
    let dataset = load::scan(&root)?;
    let images = split::default_split(&dataset)?;
    let features = decode::features(&images, &DecodeOptions::new().progress(Progress::Quiet))?;
    let evaluation = train::evaluate(&features, &TrainOptions::new())?;
    let test = images
        .clone()
        .lazy()
        .filter(col("subset").eq(lit("test")))
        .collect()?;
    let paths = frame::strings(&test, "path")?;
    let cores = rayon::current_num_threads();
    println!(
        "{} images, {} test films; {cores} threads; patch 15, stride 5 (784 covered copies)\n",
        images.height(),
        paths.len()
    );
    println!(
        "| model | reads | one film: median s (of {films}) | 20 films per class averaged: s |"
    );
    println!("|---|---|---|---|");
    for model in &evaluation.models {
        if model.kind == ModelKind::MajorityClass {
            continue;
        }
        let mut times = Vec::new();
        for path in paths.iter().take(films) {
            let t = Instant::now();
            let map = model.occlusion(path, 15, 5)?;
            times.push(t.elapsed().as_secs_f64());
            std::hint::black_box(map);
        }
        let t = Instant::now();
        let maps = occlusion::average_maps(model, &features, Subset::Test, 20, 15, 5)?;
        let averaged = t.elapsed().as_secs_f64();
        std::hint::black_box(maps);
        let reads = match &model.input {
            train::Input::Pixels => "150x150 pixels",
            train::Input::Pooled { .. } => "block means",
            train::Input::Components { .. } => "components of block means",
            train::Input::Facts => "file facts",
            _ => "other",
        };
        println!(
            "| {} | {reads} | {:.3} | {:.2} |",
            model.kind,
            median(times),
            averaged
        );
    }
    Ok(())
}
