//! Where a dataset's images come from, and the real sample that ships with the crate.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where a dataset's images come from. A notebook shows it where it first loads the data, so
/// nobody mistakes the synthetic phantoms for chest films.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// Made by [`synth`](crate::synth) (its marker file says so): drawn phantoms in the Kaggle
    /// layout, with Kaggle's counts and class differences, not X-rays.
    Synthetic {
        /// The generator's seed.
        seed: u64,
        /// The generator's scale (1: Kaggle's 5,856 images).
        scale: f64,
    },
    /// The 16 real X-rays that ship with xray-lab ([`real_sample`]).
    RealSample,
    /// Any other folder: the user's own images (the Kaggle download, or another dataset).
    Folder,
}

impl Origin {
    /// Reads where the images under `root` come from.
    pub fn of(root: &Path) -> Origin {
        if let Some((seed, scale)) = crate::synth::made_with(root) {
            return Origin::Synthetic { seed, scale };
        }
        let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if same(root, &real_sample()) {
            Origin::RealSample
        } else {
            Origin::Folder
        }
    }

    /// True for the generated phantoms.
    pub fn is_synthetic(&self) -> bool {
        matches!(self, Origin::Synthetic { .. })
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Synthetic { seed, scale } => write!(
                f,
                "SYNTHETIC data (xray-lab synth, seed {seed}, scale {scale}): drawn phantoms, not \
                 X-rays. Their counts, sizes, file sizes and class differences imitate Kaggle's, \
                 so every table and figure works, but nothing here is a fact about real chest \
                 films. Set XRAY_LAB_DATA to the Kaggle download for those."
            ),
            Origin::RealSample => write!(
                f,
                "REAL X-rays: the 16-image sample that ships with xray-lab (Kermany, Zhang, \
                 Goldbaum 2018, CC BY 4.0), 8 NORMAL and 8 PNEUMONIA: enough to look at, too few \
                 to learn from."
            ),
            Origin::Folder => write!(f, "your images (XRAY_LAB_DATA)"),
        }
    }
}

/// The folder of the 16 real chest X-rays (8 NORMAL, 8 PNEUMONIA, from the Kaggle dataset's
/// validation split, CC BY 4.0) that ship with the crate as its test fixtures: one folder per
/// class, no split folders. Notebook 01 opens with them whatever `XRAY_LAB_DATA` says.
///
/// ```
/// let dataset = xray_lab::load::scan(xray_lab::load::real_sample())?;
/// assert_eq!(dataset.len(), 16);
/// assert_eq!(dataset.origin, xray_lab::load::Origin::RealSample);
/// # Ok::<(), xray_lab::Error>(())
/// ```
pub fn real_sample() -> PathBuf {
    const SAMPLE: &str = "tests/fixtures/real-sample";
    let built_in = Path::new(env!("CARGO_MANIFEST_DIR")).join(SAMPLE);
    if built_in.is_dir() {
        return built_in;
    }
    // The checkout was moved (or another checkout built this library: cargo reuses a build
    // across checkouts that share a target folder, with the first one's path compiled in).
    // Look for the sample above the working folder, where a notebook or a test runs.
    let here = std::env::current_dir().unwrap_or_default();
    here.ancestors()
        .flat_map(|folder| [folder.join("crate").join(SAMPLE), folder.join(SAMPLE)])
        .find(|candidate| candidate.is_dir())
        .unwrap_or(built_in)
}
