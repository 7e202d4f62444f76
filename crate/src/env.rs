//! The environment: the variables the notebooks and the CLI read, and the folders they name.
//!
//! | variable | what it names | default |
//! |---|---|---|
//! | `XRAY_LAB_DATA` | the dataset root (the folder holding `train/`, `test/`, `val/`) | the synthetic dataset |
//! | `XRAY_LAB_OUT` | where figures are written | `figures/` |
//! | `XRAY_LAB_SPLIT` | a split file to reuse instead of resplitting | the default resplit |
//! | `XRAY_LAB_CACHE` | the cache folder (features, embeddings, file facts, the synthetic dataset) | `~/.cache/xray-lab` |
//! | `XRAY_LAB_PRETRAINED` | the pretrained network's weights and test photos (`scripts/fetch_pretrained.py`) | `~/.cache/xray-lab/pretrained` |
//!
//! Only the functions here read them; everything else takes what they return as a value, so a
//! test (or a second notebook) can point any call at its own folders without touching the
//! process's environment.

use std::path::PathBuf;

/// The dataset root the notebooks and the CLI work on.
pub const DATA_ENV: &str = "XRAY_LAB_DATA";
/// Where notebooks and commands write figures.
pub const OUT_ENV: &str = "XRAY_LAB_OUT";
/// A split file (from `xray-lab split` or [`crate::split::write_split`]) that the notebooks and
/// commands reuse instead of resplitting; see [`crate::split::default_split`].
pub const SPLIT_ENV: &str = "XRAY_LAB_SPLIT";
/// The cache folder.
pub const CACHE_ENV: &str = "XRAY_LAB_CACHE";
/// The folder of the pretrained network's weights.
pub const PRETRAINED_ENV: &str = "XRAY_LAB_PRETRAINED";

fn var(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The folder for caches: `$XRAY_LAB_CACHE`, else `$XDG_CACHE_HOME/xray-lab`, else
/// `~/.cache/xray-lab`, else the system's temporary folder.
pub fn cache_dir() -> PathBuf {
    var(CACHE_ENV)
        .or_else(|| var("XDG_CACHE_HOME").map(|p| p.join("xray-lab")))
        .or_else(|| var("HOME").map(|h| h.join(".cache/xray-lab")))
        .unwrap_or_else(|| std::env::temp_dir().join("xray-lab"))
}

/// The folder `scripts/fetch_pretrained.py` fills with the pretrained network's weights:
/// `$XRAY_LAB_PRETRAINED`, else `$XDG_CACHE_HOME/xray-lab/pretrained`, else
/// `~/.cache/xray-lab/pretrained`. Apart from `XRAY_LAB_CACHE` on purpose: pointing the caches
/// at an empty folder (a test, a second dataset) keeps the weights fetched once.
pub fn pretrained_dir() -> PathBuf {
    var(PRETRAINED_ENV)
        .or_else(|| var("XDG_CACHE_HOME").map(|p| p.join("xray-lab/pretrained")))
        .or_else(|| var("HOME").map(|h| h.join(".cache/xray-lab/pretrained")))
        .unwrap_or_else(|| std::env::temp_dir().join("xray-lab/pretrained"))
}

/// Where to write figures: `$XRAY_LAB_OUT` when set, else `figures` under the current folder.
pub fn output_dir() -> PathBuf {
    var(OUT_ENV).unwrap_or_else(|| PathBuf::from("figures"))
}

/// `$XRAY_LAB_DATA`, when set.
pub fn data_dir() -> Option<PathBuf> {
    var(DATA_ENV)
}

/// `$XRAY_LAB_SPLIT`, when set.
pub fn split_file() -> Option<PathBuf> {
    var(SPLIT_ENV)
}
