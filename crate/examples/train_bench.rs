//! Fit and predict times of the linear models at the sizes issue 6 names (n = 2,800 and 5,200;
//! p = 22,500 and 4,096), on features decoded from the dataset, and the matrices written as raw
//! files so that `bench/train.py` runs scikit-learn on exactly the same numbers in the same run.
//!
//! ```sh
//! cargo run --release --example train_bench -- OUT_DIR            # decode, write matrices
//! cargo run --release --example train_bench -- fit OUT_DIR N P    # fit both models on one
//! ```
//! `bench/train.py` drives both, under `/usr/bin/time` for peak memory, beside scikit-learn.
//! Prints one JSON line per (model, n, p).

use std::io::Write;
use std::time::Instant;

use xray_lab::prelude::*;
use xray_lab::train::linear::{LogisticParameters, LogisticRegression, RidgeRegression};

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("fit") {
        let a: Vec<String> = args.skip(1).collect();
        let (dir, n, p) = (
            std::path::Path::new(&a[0]),
            a[1].parse::<usize>()?,
            a[2].parse::<usize>()?,
        );
        let raw = std::fs::read(dir.join(format!("x_{n}_{p}.f32")))?;
        let x: Vec<f32> = raw
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        drop(raw);
        let y: Vec<u32> = std::fs::read(dir.join(format!("y_{n}_{p}.u8")))?
            .into_iter()
            .map(u32::from)
            .collect();
        let samples = Samples::new(x, p, y)?;
        return fit_both(&samples, n, p, 0);
    }
    let out = std::path::PathBuf::from(args.next().unwrap_or_else(|| "bench-out".into()));
    let repeats: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(3);
    std::fs::create_dir_all(&out)?;
    let dataset = load::scan(data_root()?)?;
    for size in [150u32, 64] {
        let features = decode::features(
            &dataset.images,
            &DecodeOptions::new().size(size).progress(Progress::Quiet),
        )?;
        let p = features.cols();
        // Shuffle rows deterministically so both classes are spread over any prefix.
        let mut order: Vec<usize> = (0..features.rows()).collect();
        let mut state = 42u64;
        for i in (1..order.len()).rev() {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            order.swap(i, (state >> 33) as usize % (i + 1));
        }
        for n in [2800usize, 5200] {
            let n = n.min(order.len());
            let mut x = Vec::with_capacity(n * p);
            let mut y = Vec::with_capacity(n);
            for &i in &order[..n] {
                x.extend_from_slice(features.row(i));
                y.push(features.labels()[i]);
            }
            let bytes: Vec<u8> = x.iter().flat_map(|v| v.to_le_bytes()).collect();
            std::fs::write(out.join(format!("x_{n}_{p}.f32")), bytes)?;
            std::fs::write(
                out.join(format!("y_{n}_{p}.u8")),
                y.iter().map(|&v| v as u8).collect::<Vec<u8>>(),
            )?;
            let samples = Samples::new(x, p, y)?;
            for repeat in 0..repeats {
                fit_both(&samples, n, p, repeat)?;
            }
        }
    }
    Ok(())
}

fn fit_both(
    samples: &Samples,
    n: usize,
    p: usize,
    repeat: usize,
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let t = Instant::now();
    let ridge = RidgeRegression::fit(samples, 1.0)?;
    let fit = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let _ = ridge.predict(samples)?;
    line("ridge", n, p, repeat, fit, t.elapsed().as_secs_f64(), 0)?;
    let t = Instant::now();
    let logistic = LogisticRegression::fit(samples, &LogisticParameters::default())?;
    let fit = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let _ = logistic.predict_proba(samples)?;
    let predict = t.elapsed().as_secs_f64();
    line("logistic", n, p, repeat, fit, predict, logistic.iterations)?;
    Ok(())
}

fn line(
    model: &str,
    n: usize,
    p: usize,
    repeat: usize,
    fit: f64,
    predict: f64,
    iterations: u64,
) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{{\"tool\":\"xray-lab\",\"model\":\"{model}\",\"n\":{n},\"p\":{p},\"repeat\":{repeat},\"fit_s\":{fit:.4},\"predict_s\":{predict:.4},\"iterations\":{iterations}}}"
    )
}
