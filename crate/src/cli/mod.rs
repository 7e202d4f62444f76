//! The `xray-lab` command: one module per command, each an argument struct with a `run`; the
//! flag groups several commands share in [`args`]; what the commands print in [`print`].

mod args;
mod features;
mod pipeline;
mod print;
mod scan;
mod split;
mod synth;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// What a command returns: its output is printed as it goes; an error ends it.
pub(crate) type CliResult = Result<(), Box<dyn std::error::Error>>;

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
    Synth(synth::SynthArgs),
    /// Count the images of a dataset per split and class, and list what was skipped.
    Scan(scan::ScanArgs),
    /// Resplit a dataset (the report's recipe, made exact and leak-free) and write the split as a
    /// CSV file (`path,subset`) that later commands and the notebooks reuse.
    Split(split::SplitArgs),
    /// Decode every image to grayscale features (150x150 by default, the report's 22,500 values)
    /// and write them as an Arrow IPC file (readable by polars and pyarrow). Files that cannot be
    /// decoded are listed with the reason; they never stop the run.
    Features(features::FeaturesArgs),
    /// Embeddings by a pretrained network (EfficientNet-Lite0, ImageNet): each image decoded as
    /// `features` decodes it, at 224x224, then run through the network; 1,280 numbers per image,
    /// written as an Arrow IPC file (column `embedding`; readable by polars and pyarrow). Cached
    /// like the features. Reads the weights that `scripts/fetch_pretrained.py` fetches. Needs a
    /// build with the cargo feature `pretrained` (the project's scripts build the command so).
    Embed(features::EmbedArgs),
    /// The whole report without Jupyter: scan, resplit (or a split file), image facts, features
    /// (cached), training and evaluation, every figure (SVG and PNG), the three dashboards, the
    /// HTML page, the split file, the models and metrics.json with the time of each stage.
    Report(pipeline::ReportArgs),
    /// Decode (or load cached features), resplit unless a split file is given, fit every model
    /// (the report's linear regression, logistic regression, a decision tree, a random forest,
    /// and the shortcut checks on file facts), save them, and print the metrics per model and
    /// subset. Writes DIR/models/*.json, DIR/metrics.json and DIR/split.csv.
    Train(pipeline::TrainArgs),
}

/// Parses the command line, runs the command, and says what failed.
pub(crate) fn main() -> ExitCode {
    if log::set_logger(&LOG).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
    let result = match Cli::parse().command {
        Command::Synth(args) => args.run(),
        Command::Scan(args) => args.run(),
        Command::Split(args) => args.run(),
        Command::Features(args) => args.run(),
        Command::Embed(args) => args.run(),
        Command::Report(args) => args.run(),
        Command::Train(args) => args.run(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Warnings from the library (a cache that could not be written) go to stderr, so that stdout
/// holds only what the command prints: a table, or with `--json` one JSON document. (Fifteen
/// lines rather than env_logger and its dependencies: one level, one destination.)
struct StderrLog;

impl log::Log for StderrLog {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::Level::Info
    }
    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            eprintln!("note: {}", record.args());
        }
    }
    fn flush(&self) {}
}

static LOG: StderrLog = StderrLog;
