//! How to decode: the settings that key the feature cache and travel with a model.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cache::Caches;
use crate::error::{Error, Result};
use crate::progress::Progress;

/// The report's side: 150x150 pixels, 22,500 features.
pub const DEFAULT_SIZE: u32 = 150;
/// The largest side [`DecodeOptions::size`] accepts: 1,024 (a million features per image).
pub const MAX_SIZE: u32 = 1024;
/// The default pixel limit: 100 megapixels (the largest Kaggle X-ray has about 7).
pub const DEFAULT_MAX_PIXELS: u64 = 100_000_000;

/// How to decode. The settings that change the features ([`DecodeOptions::size`] and
/// [`DecodeOptions::exact`]) key the feature cache and travel with a trained model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecodeOptions {
    pub(super) size: u32,
    pub(super) exact: bool,
    #[serde(default)]
    pub(super) size_blind: bool,
    #[serde(skip, default = "default_max_pixels")]
    pub(super) max_pixels: u64,
    #[serde(skip)]
    pub(super) progress: Progress,
    #[serde(skip, default = "yes")]
    pub(super) cache: bool,
    #[serde(skip)]
    pub(super) caches: Caches,
}

fn default_max_pixels() -> u64 {
    DEFAULT_MAX_PIXELS
}

fn yes() -> bool {
    true
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            size: DEFAULT_SIZE,
            exact: false,
            size_blind: false,
            max_pixels: DEFAULT_MAX_PIXELS,
            progress: Progress::Auto,
            cache: true,
            caches: Caches::default(),
        }
    }
}

impl DecodeOptions {
    /// The report's settings: 150x150, DCT downscaling on, cache on.
    pub fn new() -> Self {
        Self::default()
    }
    /// The side of the square features (150 gives 22,500 values per image), from 1 to
    /// [`MAX_SIZE`]; decoding refuses any other.
    pub fn size(mut self, size: u32) -> Self {
        self.size = size;
        self
    }
    /// Decode every JPEG at full resolution (no DCT downscaling).
    pub fn exact(mut self, yes: bool) -> Self {
        self.exact = yes;
        self
    }
    /// Size-blind decoding: every image is decoded at full resolution (no DCT scale, which
    /// [`DecodeOptions::new`] chooses from the image's size) and cut to its central square
    /// before the `size x size` step (no stretch, which depends on the aspect). On the Kaggle
    /// files the size and aspect differ by class, so the usual decoding treats the classes
    /// differently; this one treats every image alike. What it cannot remove: a wider film
    /// loses more of its sides to the crop, and a larger film averages more of its pixels into
    /// each feature. Slower (as [`DecodeOptions::exact`]).
    pub fn size_blind(mut self, yes: bool) -> Self {
        self.size_blind = yes;
        self
    }
    /// Whether decoding is size-blind ([`DecodeOptions::size_blind`]).
    pub fn is_size_blind(&self) -> bool {
        self.size_blind
    }
    /// Whether a JPEG may be decoded at a DCT scale.
    pub(super) fn dct_scaling(&self) -> bool {
        !self.exact && !self.size_blind
    }
    /// Reject images whose header claims more pixels than this.
    pub fn max_pixels(mut self, pixels: u64) -> Self {
        self.max_pixels = pixels;
        self
    }
    /// How to show progress.
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }
    /// Read and write the feature cache (default: yes; see [`crate::cache`]).
    pub fn cache(mut self, yes: bool) -> Self {
        self.cache = yes;
        self
    }
    /// Keep the caches (features and file facts) in `folder` instead of the default
    /// ([`Caches::default`]).
    pub fn cache_in(mut self, folder: impl Into<PathBuf>) -> Self {
        self.caches = Caches::in_folder(folder);
        self
    }
    /// Where the caches are kept.
    pub fn caches(&self) -> &Caches {
        &self.caches
    }
    /// The feature cache file for the images under `root` (see [`crate::cache`]).
    pub fn cache_file(&self, root: impl AsRef<Path>) -> PathBuf {
        self.caches.features_file(&self.key(), root.as_ref())
    }
    /// Checks the settings: a size from 1 to [`MAX_SIZE`], a pixel limit above 0.
    pub fn check(&self) -> Result<()> {
        if !(1..=MAX_SIZE).contains(&self.size) {
            return Err(Error::Parameter {
                name: "size",
                value: self.size.to_string(),
                expected: format!("a side from 1 to {MAX_SIZE} pixels"),
            });
        }
        if self.max_pixels == 0 {
            return Err(Error::Parameter {
                name: "max_pixels",
                value: "0".into(),
                expected: "a pixel limit above 0".into(),
            });
        }
        Ok(())
    }
    /// The side of the features.
    pub fn side(&self) -> u32 {
        self.size
    }
    /// Whether JPEGs are decoded at full resolution.
    pub fn is_exact(&self) -> bool {
        self.exact
    }
    pub(crate) fn uses_cache(&self) -> bool {
        self.cache
    }
    /// A short name for the settings that change the features, e.g. `150px-dct`
    /// (`150px-exact`, `150px-sizeblind`).
    pub fn key(&self) -> String {
        let how = if self.size_blind {
            "sizeblind"
        } else if self.exact {
            "exact"
        } else {
            "dct"
        };
        format!("{}px-{how}", self.size)
    }
}
