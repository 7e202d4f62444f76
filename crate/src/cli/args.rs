//! The flag groups several commands share (flattened into each), and their parsers.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use xray_lab::decode::{self, DecodeOptions, Progress};
use xray_lab::split::Amount;

/// Where the images are: the dataset root and, optionally, a split file.
#[derive(clap::Args)]
pub(crate) struct DataArgs {
    /// The dataset root (the folder holding train/test/val, or class folders).
    #[arg(long, env = "XRAY_LAB_DATA")]
    pub data: PathBuf,
    /// A split file (from `xray-lab split`): its subsets instead of the folders' split (default
    /// for `report` and `train`: the default resplit with `--seed`).
    #[arg(long)]
    pub split: Option<PathBuf>,
}

/// How images are decoded: the same flags for `features`, `train` and `report`.
#[derive(clap::Args)]
pub(crate) struct DecodeArgs {
    /// The side of the square features.
    #[arg(long, default_value_t = decode::DEFAULT_SIZE)]
    pub size: u32,
    /// Decode JPEGs at full resolution (no DCT-domain downscaling).
    #[arg(long)]
    pub exact: bool,
    /// Size-blind decoding: full resolution, then the central square, so neither the image's
    /// size nor its aspect changes how it is decoded.
    #[arg(long)]
    pub size_blind: bool,
}

impl DecodeArgs {
    pub(crate) fn options(&self) -> DecodeOptions {
        DecodeOptions::new()
            .size(self.size)
            .exact(self.exact)
            .size_blind(self.size_blind)
    }
}

/// The output format: text tables, or one JSON document on stdout.
#[derive(clap::Args)]
pub(crate) struct JsonArg {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

impl JsonArg {
    /// In JSON mode stdout carries only the JSON: a progress bar on a terminal, else nothing.
    pub(crate) fn progress(&self) -> Progress {
        if self.json && !std::io::stderr().is_terminal() {
            Progress::Quiet
        } else {
            Progress::Auto
        }
    }
}

/// A count (1000) or a fraction in [0, 1) (0.2) of the training images.
pub(crate) fn parse_amount(text: &str) -> Result<Amount, String> {
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

/// Fails early, before minutes of decoding, when the output cannot be written.
pub(crate) fn check_writable(out: &Path) -> Result<(), Box<dyn std::error::Error>> {
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
