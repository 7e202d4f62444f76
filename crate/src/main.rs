//! `xray-lab`: the library's pipeline, in batch, from the command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Parser, Subcommand};
use serde::Serialize;
use xray_lab::frame;
use xray_lab::load::{self, Dataset};
use xray_lab::split::{self, Amount, ResplitOptions, ValFolder};
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
        /// A split file (from `xray-lab split`): count per subset instead of per folder.
        #[arg(long)]
        split: Option<PathBuf>,
    },
    /// Resplit a dataset (the report's recipe, made exact and leak-free) and write the split as a
    /// CSV file (`path,subset`) that later commands and the notebooks reuse.
    Split {
        /// The dataset root.
        #[arg(long, env = "XRAY_LAB_DATA")]
        data: PathBuf,
        /// The split file to write.
        #[arg(long)]
        out: PathBuf,
        /// Images moved from train to test: a count (1000) or a fraction (0.2). Default: the
        /// report's 1,000, or 1,000/5,216 of a smaller training split.
        #[arg(long, value_parser = parse_amount)]
        test: Option<Amount>,
        /// Images moved from train to a new validation subset: a count or a fraction. Default:
        /// the report's 2,000, or 2,000/5,216 of a smaller training split.
        #[arg(long, value_parser = parse_amount)]
        validation: Option<Amount>,
        /// The same seed gives the same split.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Keep the class ratio in every subset (on by default; `--stratify=false` turns it off).
        #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
        stratify: bool,
        /// Keep each patient in one subset (on by default; `--by-patient=false` turns it off).
        #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
        by_patient: bool,
        /// Keep the original val folder as its own subset instead of folding it into train.
        #[arg(long)]
        keep_val: bool,
    },
}

fn parse_amount(text: &str) -> Result<Amount, String> {
    if let Ok(n) = text.parse::<usize>() {
        return Ok(Amount::Count(n));
    }
    match text.parse::<f64>() {
        Ok(f) if (0.0..1.0).contains(&f) => Ok(Amount::Fraction(f)),
        _ => Err(format!(
            "`{text}` is neither a count (1000) nor a fraction in [0, 1) (0.2)"
        )),
    }
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
        Command::Scan { data, json, split } => {
            let mut dataset = load::scan(&data)?;
            if let Some(file) = split {
                dataset.images = split::read_split(&dataset.images, &dataset.root, &file)?;
            }
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&ScanReport::new(&dataset)?)?
                );
            } else {
                print_scan(&dataset)?;
            }
        }
        Command::Split {
            data,
            out,
            test,
            validation,
            seed,
            stratify,
            by_patient,
            keep_val,
        } => {
            let dataset = load::scan(&data)?;
            let mut options = ResplitOptions::new()
                .seed(seed)
                .stratify(stratify)
                .by_patient(by_patient)
                .val_folder(if keep_val {
                    ValFolder::Keep
                } else {
                    ValFolder::Fold
                });
            if let Some(test) = test {
                options = options.test(test);
            }
            if let Some(validation) = validation {
                options = options.validation(validation);
            }
            // Hash every file so identical images under two names stay in one subset too.
            let hashed = split::add_content_hash(&dataset.images)?;
            let images = split::resplit(&hashed, &options)?;
            split::check_leakage(&images)?;
            split::write_split(&images, &dataset.root, &out)?;
            println!("{}", split::summary(&images)?);
            println!(
                "wrote {} ({} images; no path, file content or patient in two subsets)",
                out.display(),
                images.height()
            );
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
        // After `--split`, count per subset; `split` is then the subset's name.
        let group = if frame::has_column(&dataset.images, "subset") {
            "subset"
        } else {
            "split"
        };
        let counts = load::counts(&dataset.images, group)?;
        let split = counts.column(group)?.str()?.clone();
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
