//! `xray-lab`: the library's pipeline, in batch, from the command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde::Serialize;
use xray_lab::load::{self, Dataset};
use xray_lab::synth::{SynthOptions, DEFAULT_SEED};

#[derive(Parser)]
#[command(
    name = "xray-lab",
    version,
    about = "Explore and classify a folder-per-class image dataset (chest X-rays)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write the synthetic dataset in the Kaggle layout (train|test|val / NORMAL|PNEUMONIA / *.jpeg).
    Synth {
        /// The folder to write (it will hold train/, test/ and val/).
        #[arg(long)]
        out: PathBuf,
        /// 1 gives the Kaggle counts (5,856 images); 0.05 gives about 300.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// The same seed gives the same bytes.
        #[arg(long, default_value_t = DEFAULT_SEED)]
        seed: u64,
    },
    /// Count the images of a dataset per split and class, and list what was skipped.
    Scan {
        /// The dataset root (the folder holding train/test/val, or class folders).
        #[arg(long, env = "XRAY_LAB_DATA")]
        data: PathBuf,
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command {
        Command::Synth { out, scale, seed } => {
            let summary = SynthOptions::new().scale(scale).seed(seed).write(&out)?;
            println!(
                "wrote {} images ({:.1} MB) and {} other files to {} in {:.1} s",
                summary.images,
                summary.bytes as f64 / 1e6,
                summary.other_files,
                out.display(),
                summary.seconds
            );
        }
        Command::Scan { data, json } => {
            let dataset = load::scan(&data)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&ScanReport::new(&dataset)?)?
                );
            } else {
                print_scan(&dataset)?;
            }
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct CountRow {
    split: String,
    class: String,
    images: u32,
}

#[derive(Serialize)]
struct ScanReport {
    root: PathBuf,
    total: usize,
    classes: Vec<String>,
    counts: Vec<CountRow>,
    skipped: Vec<SkippedRow>,
}

#[derive(Serialize)]
struct SkippedRow {
    path: PathBuf,
    reason: String,
}

impl ScanReport {
    fn new(dataset: &Dataset) -> Result<Self, Box<dyn std::error::Error>> {
        let counts = dataset.counts()?;
        let split = counts.column("split")?.str()?.clone();
        let class = counts.column("class")?.str()?.clone();
        let images = counts.column("images")?.u32()?.clone();
        let counts = split
            .iter()
            .zip(class.iter())
            .zip(images.iter())
            .map(|((s, c), n)| CountRow {
                split: s.unwrap_or_default().to_string(),
                class: c.unwrap_or_default().to_string(),
                images: n.unwrap_or(0),
            })
            .collect();
        Ok(ScanReport {
            root: dataset.root.clone(),
            total: dataset.len(),
            classes: dataset.classes.clone(),
            counts,
            skipped: dataset
                .skipped
                .iter()
                .map(|s| SkippedRow {
                    path: s.path.clone(),
                    reason: s.reason.to_string(),
                })
                .collect(),
        })
    }
}

fn print_scan(dataset: &Dataset) -> Result<(), Box<dyn std::error::Error>> {
    let report = ScanReport::new(dataset)?;
    println!("dataset {}", report.root.display());
    println!("{:<12} {:<12} {:>8}", "split", "class", "images");
    for row in &report.counts {
        println!("{:<12} {:<12} {:>8}", row.split, row.class, row.images);
    }
    println!("{:<25} {:>8}", "total", report.total);
    if report.skipped.is_empty() {
        println!("skipped: none");
    } else {
        println!("skipped {} entries:", report.skipped.len());
        for s in &report.skipped {
            println!("  {}: {}", s.path.display(), s.reason);
        }
    }
    Ok(())
}
