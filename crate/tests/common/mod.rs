//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test file uses its own part of these

use std::path::{Path, PathBuf};

/// The crate's folder, read when the test runs: cargo sets `CARGO_MANIFEST_DIR` for the test
/// process. The compile-time `env!` is only the fallback, because a test binary that cargo reuses
/// from a build in another checkout (same target folder, same sources) would otherwise look for
/// its fixtures in that other checkout, which may be gone.
pub fn crate_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// The 16 real chest X-rays shipped as fixtures (CC BY 4.0, see their README).
pub fn real_sample() -> PathBuf {
    crate_dir().join("tests/fixtures/real-sample")
}

/// The small synthetic dataset the notebook test runs the course on (scale 0.02, seed 7: about
/// 120 images in the Kaggle layout), written to `folder`.
pub fn course_dataset(folder: &Path) -> PathBuf {
    xray_lab::synth::SynthOptions::new()
        .scale(0.02)
        .seed(7)
        .write(folder)
        .unwrap();
    folder.to_path_buf()
}
