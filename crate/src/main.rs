//! `xray-lab`: the library's pipeline, in batch, from the command line.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{ArgAction, Parser, Subcommand};
use serde::Serialize;
use xray_lab::decode::{self, DecodeOptions, Features, Progress};
use xray_lab::frame;
use xray_lab::load::{self, Dataset};
use xray_lab::report::{ReportOptions, SplitCheck, Summary};
use xray_lab::split::{self, Amount, ResplitOptions, ValFolder};
use xray_lab::subset::Subset;
use xray_lab::synth::{SynthOptions, DEFAULT_SEED};
use xray_lab::train::TrainOptions;

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
        /// Save every file as a plain JFIF at quality 85, so that no header tells the class
        /// (the Kaggle acquisition pattern, written by default, off).
        #[arg(long)]
        plain_headers: bool,
        /// Keep a finished dataset already in `--out` when the same settings and this version
        /// of the generator made it; otherwise write it (as without this flag).
        #[arg(long)]
        ensure: bool,
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
    /// Decode every image to grayscale features (150x150 by default, the report's 22,500 values)
    /// and write them as an Arrow IPC file (readable by polars and pyarrow). Files that cannot be
    /// decoded are listed with the reason; they never stop the run.
    Features {
        /// The dataset root.
        #[arg(long, env = "XRAY_LAB_DATA")]
        data: PathBuf,
        /// A split file (from `xray-lab split`): adds each image's subset to the output.
        #[arg(long)]
        split: Option<PathBuf>,
        /// The feature file to write (Arrow IPC, e.g. features.arrow).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        decode: DecodeArgs,
        /// Neither read nor update the feature cache.
        #[arg(long)]
        no_cache: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Embeddings by a pretrained network (EfficientNet-Lite0, ImageNet): each image decoded as
    /// `features` decodes it, at 224x224, then run through the network; 1,280 numbers per image,
    /// written as an Arrow IPC file (column `embedding`; readable by polars and pyarrow). Cached
    /// like the features. Reads the weights that `scripts/fetch_pretrained.py` fetches. Needs a
    /// build with the cargo feature `pretrained` (the project's scripts build the command so).
    Embed {
        /// The dataset root.
        #[arg(long, env = "XRAY_LAB_DATA")]
        data: PathBuf,
        /// A split file (from `xray-lab split`): adds each image's subset to the output.
        #[arg(long)]
        split: Option<PathBuf>,
        /// The embedding file to write (Arrow IPC, e.g. embeddings.arrow).
        #[arg(long)]
        out: PathBuf,
        /// The weight file (default: where the set-up puts it, under the cache folder).
        #[arg(long)]
        weights: Option<PathBuf>,
        /// Decode JPEGs at full resolution (no DCT-domain downscaling).
        #[arg(long)]
        exact: bool,
        /// Neither read nor update the cache.
        #[arg(long)]
        no_cache: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The whole report without Jupyter: scan, resplit (or a split file), image facts, features
    /// (cached), training and evaluation, every figure (SVG and PNG), the three dashboards, the
    /// HTML page, the split file, the models and metrics.json with the time of each stage.
    Report {
        /// The dataset root.
        #[arg(long, env = "XRAY_LAB_DATA")]
        data: PathBuf,
        /// The folder to write into.
        #[arg(long)]
        out: PathBuf,
        /// A split file (from `xray-lab split`) to reuse.
        #[arg(long)]
        split: Option<PathBuf>,
        #[command(flatten)]
        decode: DecodeArgs,
        /// Seed of the split, the tree and the forest (the same seed gives the same split as
        /// `xray-lab split --seed`).
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Also train logistic regression and a random forest on EfficientNet-Lite0 embeddings
        /// (the same split; in the same table). About 70 s more for 5,856 images the first time.
        #[arg(long)]
        pretrained: bool,
    },
    /// Decode (or load cached features), resplit unless a split file is given, fit every model
    /// (the report's linear regression, logistic regression, a decision tree, a random forest,
    /// and the shortcut checks on file facts), save them, and print the metrics per model and
    /// subset. Writes DIR/models/*.json, DIR/metrics.json and DIR/split.csv.
    Train {
        /// The dataset root.
        #[arg(long, env = "XRAY_LAB_DATA")]
        data: PathBuf,
        /// A split file (from `xray-lab split`); default: the default resplit (seed 42).
        #[arg(long)]
        split: Option<PathBuf>,
        /// The folder to write models and metrics to.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        decode: DecodeArgs,
        /// Seed of the split, the tree and the forest (the same seed gives the same split as
        /// `xray-lab split --seed`).
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Also train logistic regression and a random forest on EfficientNet-Lite0 embeddings
        /// (the same split; in the same table). About 70 s more for 5,856 images the first time.
        #[arg(long)]
        pretrained: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// How images are decoded: the same flags for `features`, `train` and `report`.
#[derive(clap::Args)]
struct DecodeArgs {
    /// The side of the square features.
    #[arg(long, default_value_t = decode::DEFAULT_SIZE)]
    size: u32,
    /// Decode JPEGs at full resolution (no DCT-domain downscaling).
    #[arg(long)]
    exact: bool,
    /// Size-blind decoding: full resolution, then the central square, so neither the image's
    /// size nor its aspect changes how it is decoded.
    #[arg(long)]
    size_blind: bool,
}

impl DecodeArgs {
    fn options(&self) -> DecodeOptions {
        DecodeOptions::new()
            .size(self.size)
            .exact(self.exact)
            .size_blind(self.size_blind)
    }
}

/// In JSON mode stdout carries only the JSON: a progress bar on a terminal, else nothing.
fn progress_for(json: bool) -> Progress {
    if json && !std::io::stderr().is_terminal() {
        Progress::Quiet
    } else {
        Progress::Auto
    }
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

fn main() -> ExitCode {
    if log::set_logger(&LOG).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
    let result = match Cli::parse().command {
        Command::Report {
            data,
            out,
            split,
            decode,
            seed,
            pretrained,
        } => report(&data, &out, split, &decode, seed, pretrained),
        Command::Train {
            data,
            split,
            out,
            decode,
            seed,
            pretrained,
            json,
        } => train(&data, &out, split, &decode, seed, pretrained, json),
        Command::Synth {
            out,
            scale,
            seed,
            plain_headers,
            ensure,
        } => synth(&out, scale, seed, plain_headers, ensure),
        Command::Scan { data, json, split } => scan(&data, split, json),
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
            split_command(&data, &out, &options)
        }
        Command::Features {
            data,
            split,
            out,
            decode,
            no_cache,
            json,
        } => features(
            &data,
            split,
            &out,
            decode.options(),
            no_cache,
            json,
            decode::features,
        ),
        #[cfg(feature = "pretrained")]
        Command::Embed {
            data,
            split,
            out,
            weights,
            exact,
            no_cache,
            json,
        } => embed(&data, split, &out, weights, exact, no_cache, json),
        // A build without the network says how to get one.
        #[cfg(not(feature = "pretrained"))]
        Command::Embed { .. } => Err(xray_lab::Error::FeatureOff {
            feature: "pretrained",
            what: "`xray-lab embed`".into(),
        }
        .into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

type CliResult = Result<(), Box<dyn std::error::Error>>;

/// The options `report` and `train` share: one seed for the split, the tree and the forest.
fn pipeline_options(
    split: Option<PathBuf>,
    decode: &DecodeArgs,
    seed: u64,
    progress: Progress,
    pretrained: bool,
) -> ReportOptions {
    ReportOptions {
        split,
        resplit: ResplitOptions::new().seed(seed),
        decode: decode.options().progress(progress),
        train: TrainOptions::new().seed(seed),
        progress,
        pretrained,
    }
}

fn report(
    data: &Path,
    out: &Path,
    split: Option<PathBuf>,
    decode: &DecodeArgs,
    seed: u64,
    pretrained: bool,
) -> CliResult {
    check_writable(&out.join("metrics.json"))?;
    let options = pipeline_options(split, decode, seed, Progress::Auto, pretrained);
    let summary = xray_lab::report::build(data, out, &options)?;
    println!("images per subset and class:");
    for c in &summary.counts {
        println!("  {:<11} {:<10} {:>6}", c.subset, c.class, c.images);
    }
    print_split_check(&summary.split_check);
    for s in &summary.skipped {
        println!("  skipped {}: {}", s.path.display(), s.reason);
    }
    for r in &summary.rejects {
        println!("  skipped {}: {}", r.path.display(), r.reason);
    }
    println!("test set:");
    for m in summary.metrics.iter().filter(|m| m.subset == Subset::Test) {
        println!(
            "  {:<31} accuracy {:.3}  recall {:.3}  specificity {:.3}  ROC AUC {:.3}",
            m.model.name(),
            m.metrics.accuracy,
            m.metrics.recall,
            m.metrics.specificity,
            m.metrics.roc_auc
        );
    }
    if let Some(shortcut) = &summary.shortcut {
        print_shortcut(shortcut);
    }
    println!(
        "{} files in {:.1} s. Look at {}/report.html, {}/dashboards/, {}/figures/, {}/metrics.json",
        summary.files.len(),
        summary.seconds,
        out.display(),
        out.display(),
        out.display(),
        out.display()
    );
    Ok(())
}

/// The shortcut section in a few lines: the matched test's counts and each model's ROC AUC on
/// the test and on its matched part.
fn print_shortcut(shortcut: &xray_lab::report::ShortcutSummary) {
    let get = |row: &serde_json::Value, key: &str| row.get(key).and_then(|v| v.as_f64());
    if let Some(m) = shortcut.matched.get(0) {
        println!(
            "shortcut: {} pairs matched on width and height in test ({} NORMAL and {} PNEUMONIA available); ROC AUC on test -> on its matched part:",
            get(m, "pairs").unwrap_or(0.0),
            get(m, "NORMAL available").unwrap_or(0.0),
            get(m, "PNEUMONIA available").unwrap_or(0.0),
        );
    }
    let rows = |table: &serde_json::Value, how: &str| {
        for row in table.as_array().into_iter().flatten() {
            println!(
                "  {:<31} {:<10} {:.3} -> {:.3}",
                row.get("model").and_then(|v| v.as_str()).unwrap_or("?"),
                how,
                get(row, "roc_auc").unwrap_or(f64::NAN),
                get(row, "matched roc_auc").unwrap_or(f64::NAN),
            );
        }
    };
    rows(&shortcut.on_matched, "usual");
    rows(&shortcut.size_blind_on_matched, "size-blind");
}

fn print_split_check(check: &SplitCheck) {
    println!(
        "leak checks: {} images hashed; {} identical files in {} groups and {} patients with several images each kept in one subset; {} images leak",
        check.images,
        check.duplicate_images,
        check.duplicate_groups,
        check.patients_with_several_images,
        check.leaking_images
    );
}

fn train(
    data: &Path,
    out: &Path,
    split: Option<PathBuf>,
    decode: &DecodeArgs,
    seed: u64,
    pretrained: bool,
    json: bool,
) -> CliResult {
    check_writable(&out.join("metrics.json"))?;
    let progress = progress_for(json);
    let options = pipeline_options(split, decode, seed, progress, pretrained);
    let summary = xray_lab::report::train(data, out, &options)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_train(&summary, out);
    }
    Ok(())
}

fn print_train(summary: &Summary, out: &Path) {
    let images = |subset: Subset| -> u32 {
        summary
            .counts
            .iter()
            .filter(|c| c.subset == subset)
            .map(|c| c.images)
            .sum()
    };
    println!(
        "{}: {} train, {} validation, {} test images ({}); {} rejected",
        summary.data.display(),
        images(Subset::Train),
        images(Subset::Validation),
        images(Subset::Test),
        summary.settings,
        summary.rejects.len()
    );
    print_split_check(&summary.split_check);
    for reject in &summary.rejects {
        println!("  rejected {}: {}", reject.path.display(), reject.reason);
    }
    println!(
        "{:<31} {:<11} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6}",
        "model", "subset", "rmse", "r2", "acc", "prec", "recall", "spec", "f1", "auc"
    );
    for row in &summary.metrics {
        let m = &row.metrics;
        println!(
            "{:<31} {:<11} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3}",
            row.model.name(),
            row.subset.name(),
            m.rmse,
            m.r2,
            m.accuracy,
            m.precision,
            m.recall,
            m.specificity,
            m.f1,
            m.roc_auc
        );
    }
    for model in &summary.models {
        println!(
            "fitted {:<31} in {:>6.2} s -> {}",
            model.model.name(),
            model.fit_seconds,
            out.join(&model.file).display()
        );
    }
    let stages: Vec<String> = summary
        .stages
        .iter()
        .map(|(name, seconds)| format!("{name} {seconds:.2} s"))
        .collect();
    println!(
        "{}; total {:.2} s; wrote {}",
        stages.join(", "),
        summary.seconds,
        out.join("metrics.json").display()
    );
}

fn synth(out: &Path, scale: f64, seed: u64, plain_headers: bool, ensure: bool) -> CliResult {
    let options = SynthOptions::new()
        .scale(scale)
        .seed(seed)
        .acquisition(!plain_headers);
    if ensure && options.is_written_in(out) {
        println!(
            "kept the dataset already in {} (the same settings and generator version made it)",
            out.display()
        );
        return Ok(());
    }
    let summary = options.write(out)?;
    println!(
        "wrote {} images ({:.1} MB) and {} other files to {} in {:.1} s",
        summary.images,
        summary.bytes as f64 / 1e6,
        summary.other_files,
        out.display(),
        summary.seconds
    );
    Ok(())
}

fn scan(data: &Path, split: Option<PathBuf>, json: bool) -> CliResult {
    let mut dataset = load::scan(data)?;
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
    Ok(())
}

fn split_command(data: &Path, out: &Path, options: &ResplitOptions) -> CliResult {
    let dataset = load::scan(data)?;
    // The one recipe: identical images under two names stay in one subset too, and the result
    // is checked for leaks before it is written.
    let start = std::time::Instant::now();
    let (images, check) = split::split_checked(&dataset, None, options)?;
    let seconds = start.elapsed().as_secs_f64();
    split::write_split(&images, &dataset.root, out)?;
    println!("{}", split::summary(&images)?);
    print_split_check(&check);
    println!(
        "wrote {} ({} images; no path, file content or patient in two subsets) in {:.0} ms (content hashes cached per file)",
        out.display(),
        images.height(),
        seconds * 1e3
    );
    Ok(())
}

/// `embed`: `features` with the pretrained network's embeddings as the rows.
#[cfg(feature = "pretrained")]
fn embed(
    data: &Path,
    split: Option<PathBuf>,
    out: &Path,
    weights: Option<PathBuf>,
    exact: bool,
    no_cache: bool,
    json: bool,
) -> CliResult {
    use xray_lab::pretrained::{weights_path, Network};
    let network = Network::load(weights.unwrap_or_else(weights_path))?;
    let options = DecodeOptions::new().exact(exact);
    features(data, split, out, options, no_cache, json, |images, o| {
        decode::embeddings(images, &network, o)
    })
}

/// `features`, or `embed` (`compute` makes the rows).
fn features(
    data: &Path,
    split: Option<PathBuf>,
    out: &Path,
    decode: DecodeOptions,
    no_cache: bool,
    json: bool,
    compute: impl FnOnce(&polars::prelude::DataFrame, &DecodeOptions) -> xray_lab::Result<Features>,
) -> CliResult {
    let dataset = load::scan(data)?;
    let mut images = dataset.images.clone();
    if let Some(file) = split {
        images = split::read_split(&images, &dataset.root, &file)?;
    }
    check_writable(out)?;
    let options = decode.cache(!no_cache).progress(progress_for(json));
    let features = compute(&images, &options)?;
    features.save(out)?;
    let report = FeaturesReport::new(&features, &images, out)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        report.print();
    }
    Ok(())
}

/// Fails early, before minutes of decoding, when the output cannot be written.
fn check_writable(out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the output folder {}: {e}", dir.display()))?;
    }
    let probe = out.with_extension("write-test");
    std::fs::File::create(&probe)
        .map_err(|e| format!("cannot write the output {}: {e}", out.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

#[derive(Serialize)]
struct FeaturesReport {
    out: PathBuf,
    settings: String,
    rows: usize,
    cols: usize,
    decoded: usize,
    from_cache: usize,
    rejects: Vec<decode::Reject>,
    seconds: f64,
    images_per_second: f64,
    megabytes_per_second: f64,
}

impl FeaturesReport {
    fn new(
        features: &Features,
        images: &polars::prelude::DataFrame,
        out: &Path,
    ) -> Result<Self, Box<dyn std::error::Error>> {
        // Throughput counts every file the run went through: decoded, loaded or rejected.
        let bytes: u64 = frame::column(images, "bytes")?
            .cast(&polars::prelude::DataType::UInt64)?
            .u64()?
            .iter()
            .flatten()
            .sum();
        let seconds = features.seconds.max(1e-9);
        let files = features.rows() + features.rejects.len();
        Ok(FeaturesReport {
            out: out.to_path_buf(),
            settings: features.key(),
            rows: features.rows(),
            cols: features.cols(),
            decoded: features.decoded,
            from_cache: features.rows() - features.decoded,
            rejects: features.rejects.clone(),
            seconds: features.seconds,
            images_per_second: files as f64 / seconds,
            megabytes_per_second: bytes as f64 / 1e6 / seconds,
        })
    }

    fn print(&self) {
        println!(
            "{} images x {} features ({}): {} decoded, {} from the cache, {} rejected",
            self.rows,
            self.cols,
            self.settings,
            self.decoded,
            self.from_cache,
            self.rejects.len()
        );
        for reject in &self.rejects {
            println!("  rejected {}: {}", reject.path.display(), reject.reason);
        }
        println!(
            "{:.2} s, {:.0} images/s, {:.1} MB/s; wrote {}",
            self.seconds,
            self.images_per_second,
            self.megabytes_per_second,
            self.out.display()
        );
    }
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
        let group = xray_lab::subset::column_of(&dataset.images, "counting")?;
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
