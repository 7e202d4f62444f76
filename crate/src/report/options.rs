//! The report's settings.

use std::path::PathBuf;

use crate::decode::DecodeOptions;
use crate::progress::Progress;
use crate::split::ResplitOptions;
use crate::train::TrainOptions;

/// Settings of [`build`](super::build).
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// A split file to reuse (from `xray-lab split`); default: a resplit with `resplit`.
    pub split: Option<PathBuf>,
    /// How to resplit when no split file is given (default: [`ResplitOptions::new`], seed 42).
    pub resplit: ResplitOptions,
    /// How to decode (and where the caches are).
    pub decode: DecodeOptions,
    /// How to train.
    pub train: TrainOptions,
    /// How to show progress: a line on stderr as each stage starts and ends, unless quiet.
    pub progress: Progress,
    /// Also train on the pretrained network's embeddings (`Evaluation::add_pretrained`; the
    /// weights from `scripts/fetch_pretrained.py`; about 70 s for 5,856 images on 2 cores the
    /// first time, then the cache). Needs the cargo feature `pretrained`: without it, `true`
    /// is [`Error::FeatureOff`](crate::Error::FeatureOff) before any work starts.
    pub pretrained: bool,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            split: None,
            resplit: ResplitOptions::new(),
            decode: DecodeOptions::new(),
            train: TrainOptions::new(),
            progress: Progress::Quiet,
            pretrained: false,
        }
    }
}
