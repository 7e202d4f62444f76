//! A scanned dataset and its counts.

use std::path::PathBuf;

use polars::prelude::*;

use super::origin::Origin;
use super::skipped::Skipped;
use crate::columns;
use crate::error::{PolarsContext, Result};
use crate::frame;

/// A scanned dataset: the image table, the class names and what was skipped.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The folder that was scanned.
    pub root: PathBuf,
    /// One row per image, sorted by path (columns in the [module docs](super)).
    pub images: DataFrame,
    /// The class names, sorted; a class's label is its index here.
    pub classes: Vec<String>,
    /// Every entry that is not in `images`, with the reason.
    pub skipped: Vec<Skipped>,
    /// Where the images come from: generated phantoms, the real sample, or a folder of yours.
    pub origin: Origin,
}

impl Dataset {
    /// Images per split and class, as a DataFrame with columns `split`, `class`, `images`,
    /// splits in the report's order (train, test, val, then any other alphabetically).
    pub fn counts(&self) -> Result<DataFrame> {
        counts(&self.images, columns::SPLIT)
    }

    /// The skipped entries as a DataFrame with columns `path` and `reason`.
    pub fn skipped_frame(&self) -> Result<DataFrame> {
        df!(
            columns::PATH => self.skipped.iter().map(|s| s.path.to_string_lossy().into_owned()).collect::<Vec<_>>(),
            "reason" => self.skipped.iter().map(|s| s.reason.to_string()).collect::<Vec<_>>(),
        )
        .ctx("building the skipped table")
    }

    /// Where the images come from, how many there are, per split and class: what a notebook
    /// shows where it first loads the data (and what `dataset` at the end of a cell shows).
    pub fn overview(&self) -> Result<DataFrame> {
        let classes = frame::strings(&self.images, columns::CLASS)?;
        let per_class: Vec<String> = self
            .classes
            .iter()
            .map(|class| format!("{class} {}", classes.iter().filter(|c| *c == class).count()))
            .collect();
        let bytes: u64 = frame::column(&self.images, columns::BYTES)?
            .as_materialized_series()
            .cast(&DataType::UInt64)
            .ctx("summing file sizes")?
            .u64()
            .ctx("summing file sizes")?
            .sum()
            .unwrap_or(0);
        df!(
            "images" => [self.len() as u64],
            "per class" => [per_class.join(", ")],
            "on disk (MB)" => [bytes as f64 / 1e6],
            "skipped files" => [self.skipped.len() as u64],
            "root" => [self.root.display().to_string()],
        )
        .ctx("describing the dataset")
    }

    /// evcxr's display hook: the origin in a coloured box (amber for the synthetic phantoms,
    /// green for real X-rays), then [`overview`](Self::overview).
    pub fn evcxr_display(&self) {
        let (colour, border) = match self.origin {
            Origin::Synthetic { .. } => ("#fff4d6", "#d99a00"),
            Origin::RealSample => ("#e6f4ea", "#2e7d32"),
            Origin::Folder => ("#eef2f7", "#7a8ba0"),
        };
        let table = self
            .overview()
            .and_then(|df| frame::html_table(&df, 1))
            .unwrap_or_default();
        println!(
            "EVCXR_BEGIN_CONTENT text/plain\n{}\n{} images under {}\nEVCXR_END_CONTENT\n\
             EVCXR_BEGIN_CONTENT text/html\n<div style=\"background:{colour};border-left:6px solid \
             {border};padding:0.5em 0.8em;margin:0.3em 0\"><b>{}</b></div>{table}\nEVCXR_END_CONTENT",
            self.origin,
            self.len(),
            self.root.display(),
            frame::escape_html(&self.origin.to_string()),
        );
    }

    /// How many images the table holds.
    pub fn len(&self) -> usize {
        self.images.height()
    }

    /// True when the table holds no image (a scan never returns such a dataset).
    pub fn is_empty(&self) -> bool {
        self.images.height() == 0
    }
}

/// Images per `group` column (`split`, or later a resplit's `subset`) and class.
///
/// Returns a DataFrame with columns `<group>`, `class`, `images`, groups in the report's order
/// (train, test, val, validation, then others alphabetically), classes sorted.
pub fn counts(images: &DataFrame, group: &str) -> Result<DataFrame> {
    frame::require(images, &[group, columns::CLASS], "counting images")?;
    let counts = frame::fresh(images)
        .lazy()
        .group_by([col(group), col(columns::CLASS)])
        .agg([len().cast(DataType::UInt32).alias("images")])
        .with_column(crate::subset::rank_expr(col(group)).alias("__rank"))
        .sort(
            ["__rank", group, columns::CLASS],
            SortMultipleOptions::default(),
        )
        .drop(Selector::ByName {
            names: Arc::new(["__rank".into()]),
            strict: true,
        })
        .collect()
        .ctx("counting images per group and class")?;
    Ok(frame::fresh(&counts))
}
