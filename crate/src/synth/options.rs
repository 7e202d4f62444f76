//! The generator's settings, the Kaggle counts it scales, and the summary it writes.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The Kaggle dataset's image counts: (split, class, images).
pub const KAGGLE_COUNTS: [(&str, &str, usize); 6] = [
    ("train", "NORMAL", 1341),
    ("train", "PNEUMONIA", 3875),
    ("test", "NORMAL", 234),
    ("test", "PNEUMONIA", 390),
    ("val", "NORMAL", 8),
    ("val", "PNEUMONIA", 8),
];

/// The seed used when none is given.
pub const DEFAULT_SEED: u64 = 42;

/// The name of the file that marks a finished dataset (hidden, so scans list it as skipped).
pub const MARKER: &str = ".xray-lab-synth.json";

/// Bumped whenever the generator's output changes, so cached default datasets are regenerated.
pub(super) const GENERATOR_VERSION: u32 = 2;

/// How to generate: scale (1 = the Kaggle counts), seed, and how the files are saved.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SynthOptions {
    pub(super) scale: f64,
    pub(super) seed: u64,
    pub(super) quality: u8,
    #[serde(default)]
    pub(super) acquisition: bool,
}

impl Default for SynthOptions {
    fn default() -> Self {
        SynthOptions {
            scale: 1.0,
            seed: DEFAULT_SEED,
            quality: 85,
            acquisition: true,
        }
    }
}

/// What [`SynthOptions::write`] wrote.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SynthSummary {
    /// The dataset root (holds train/test/val).
    pub root: PathBuf,
    /// The options used.
    pub options: SynthOptions,
    /// The generator version.
    pub version: u32,
    /// Images written.
    pub images: usize,
    /// Non-image files written (the ones a loader must skip).
    pub other_files: usize,
    /// Total bytes of the images.
    pub bytes: u64,
    /// Wall-clock seconds the generation took.
    pub seconds: f64,
}

impl SynthOptions {
    /// Scale 1 (the Kaggle counts), seed [`DEFAULT_SEED`], the Kaggle acquisition pattern.
    pub fn new() -> Self {
        Self::default()
    }

    /// Multiply every count by `scale` (rounded, at least one image per folder). Must be positive.
    pub fn scale(mut self, scale: f64) -> Self {
        self.scale = scale;
        self
    }

    /// The seed: the same seed gives the same bytes.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// JPEG quality, 1-100 (default 85), of every file when the acquisition pattern is off;
    /// with it on, the quality is the class's (see [`SynthOptions::acquisition`]).
    pub fn quality(mut self, quality: u8) -> Self {
        self.quality = quality.clamp(1, 100);
        self
    }

    /// Save the files with the Kaggle files' acquisition pattern (default: yes). NORMAL files
    /// get EXIF, an ICC profile, a 72 dpi JFIF density and a quality of 88, 91 or 95 (the
    /// patient's); 2% of them (8 of 419 real ones) get none of these. PNEUMONIA files get quality 75 and a
    /// JFIF header without unit; 3.6% of them are progressive with EXIF and 7% RGB with 4:2:0
    /// chroma. Off: every file is a plain JFIF at [`SynthOptions::quality`], 3% of each class
    /// RGB, none progressive; the header then tells nothing of the class (only the size does).
    pub fn acquisition(mut self, yes: bool) -> Self {
        self.acquisition = yes;
        self
    }

    /// The number of images per (split, class) these options give.
    pub fn counts(&self) -> Vec<(&'static str, &'static str, usize)> {
        KAGGLE_COUNTS
            .iter()
            .map(|&(split, class, n)| {
                (
                    split,
                    class,
                    ((n as f64 * self.scale).round() as usize).max(1),
                )
            })
            .collect()
    }
}
