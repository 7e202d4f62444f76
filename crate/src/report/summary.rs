//! What `metrics.json` holds: counts, each model's metrics, skipped files, saved models.

use std::path::PathBuf;

use serde::Serialize;

use super::shortcut::ShortcutSummary;
use crate::decode::Reject;
use crate::subset::Subset;
use crate::train::{self, metrics::Metrics, ModelKind};

/// Images of one subset and class.
#[derive(Debug, Clone, Serialize)]
pub struct Count {
    /// The subset.
    pub subset: Subset,
    /// The class.
    pub class: String,
    /// How many images.
    pub images: u32,
}

/// One model's metrics on one subset.
#[derive(Debug, Clone, Serialize)]
pub struct ModelMetrics {
    /// The model.
    pub model: ModelKind,
    /// What it reads.
    pub features: String,
    /// The subset.
    pub subset: Subset,
    /// The metrics.
    #[serde(flatten)]
    pub metrics: Metrics,
}

impl ModelMetrics {
    /// One row per model and subset of an evaluation.
    pub fn of(evaluation: &train::Evaluation) -> Vec<ModelMetrics> {
        evaluation
            .results
            .iter()
            .map(|r| ModelMetrics {
                model: r.model,
                features: r.features.clone(),
                subset: r.subset.clone(),
                metrics: r.metrics.clone(),
            })
            .collect()
    }
}

pub use crate::split::SplitCheck;

/// A file the scan left out, with the reason in words.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedFile {
    /// The file.
    pub path: PathBuf,
    /// Why ([`load::SkipReason`](crate::load::SkipReason) as text).
    pub reason: String,
}

/// One saved model.
#[derive(Debug, Clone, Serialize)]
pub struct ModelRow {
    /// The model.
    pub model: ModelKind,
    /// Its file.
    pub file: PathBuf,
    /// Its threshold, chosen on validation.
    pub threshold: f64,
    /// Seconds its fit took.
    pub fit_seconds: f64,
}

/// What [`build`](super::build) and [`train`] wrote and measured; saved as `metrics.json` (one schema for both).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The dataset root.
    pub data: PathBuf,
    /// The decode setting the features were made with (`150px-dct`).
    pub settings: String,
    /// Images per subset and class after the split.
    pub counts: Vec<Count>,
    /// What the split's leak checks found.
    pub split_check: SplitCheck,
    /// Files the scan skipped, with the reason.
    pub skipped: Vec<SkippedFile>,
    /// Files that could not be decoded, with the reason.
    pub rejects: Vec<Reject>,
    /// The saved models.
    pub models: Vec<ModelRow>,
    /// Metrics per model and subset.
    pub metrics: Vec<ModelMetrics>,
    /// The linear regression's penalty search: (alpha, validation RMSE).
    pub ridge_path: Vec<(f64, f64)>,
    /// Seconds per stage, in order.
    pub stages: Vec<(String, f64)>,
    /// Every file written (figures, dashboards, page, split, models, metrics.json).
    pub files: Vec<PathBuf>,
    /// How much of the scores the acquisition explains (`report` only; null for `train`).
    pub shortcut: Option<ShortcutSummary>,
    /// Total seconds.
    pub seconds: f64,
}
