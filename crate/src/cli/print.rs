//! What the commands print: text tables, and the documents behind `--json`.

use std::path::{Path, PathBuf};

use serde::Serialize;
use xray_lab::columns;
use xray_lab::decode::{self, Features};
use xray_lab::frame;
use xray_lab::load::{self, Dataset};
use xray_lab::report::{SplitCheck, Summary};
use xray_lab::subset::Subset;

/// The shortcut section in a few lines: the matched test's counts and each model's ROC AUC on
/// the test and on its matched part.
pub(crate) fn print_shortcut(shortcut: &xray_lab::report::ShortcutSummary) {
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

pub(crate) fn print_split_check(check: &SplitCheck) {
    println!(
        "leak checks: {} images hashed; {} identical files in {} groups and {} patients with several images each kept in one subset; {} images leak",
        check.images,
        check.duplicate_images,
        check.duplicate_groups,
        check.patients_with_several_images,
        check.leaking_images
    );
}

pub(crate) fn print_train(summary: &Summary, out: &Path) {
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
        "model",
        columns::SUBSET,
        "rmse",
        "r2",
        "acc",
        "prec",
        "recall",
        "spec",
        "f1",
        "auc"
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

#[derive(Serialize)]
pub(crate) struct FeaturesReport {
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
    pub(crate) fn new(
        features: &Features,
        images: &polars::prelude::DataFrame,
        out: &Path,
    ) -> Result<Self, Box<dyn std::error::Error>> {
        // Throughput counts every file the run went through: decoded, loaded or rejected.
        let bytes: u64 = frame::column(images, columns::BYTES)?
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

    pub(crate) fn print(&self) {
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
pub(crate) struct ScanReport {
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
    pub(crate) fn new(dataset: &Dataset) -> Result<Self, Box<dyn std::error::Error>> {
        // After `--split`, count per subset; `split` is then the subset's name.
        let group = xray_lab::subset::column_of(&dataset.images, "counting")?;
        let counts = load::counts(&dataset.images, group)?;
        let split = counts.column(group)?.str()?.clone();
        let class = counts.column(columns::CLASS)?.str()?.clone();
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

impl ScanReport {
    pub(crate) fn print(&self) {
        println!("dataset {}", self.root.display());
        println!(
            "{:<12} {:<12} {:>8}",
            columns::SPLIT,
            columns::CLASS,
            "images"
        );
        for row in &self.counts {
            println!("{:<12} {:<12} {:>8}", row.split, row.class, row.images);
        }
        println!("{:<25} {:>8}", "total", self.total);
        if self.skipped.is_empty() {
            println!("skipped: none");
        } else {
            println!("skipped {} entries:", self.skipped.len());
            for s in &self.skipped {
                println!("  {}: {}", s.path.display(), s.reason);
            }
        }
    }
}
