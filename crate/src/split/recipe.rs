//! The recipe of a resplit: how many images go where, how they are grouped, the seed.

use std::path::PathBuf;

use crate::cache::Caches;

/// The report's counts: 1,000 images to test and 2,000 to validation, of 5,216 training images.
pub const REPORT_TEST: usize = 1000;
/// See [`REPORT_TEST`].
pub const REPORT_VALIDATION: usize = 2000;
/// The Kaggle training split the report's counts were taken from.
pub const REPORT_TRAIN_POOL: usize = 5216;
/// The sizes the report ended with after its resplit, as it gave them (approximate: its samples
/// were Bernoulli draws): about 2,800 train, 1,600 test and 2,000 validation images.
pub const REPORT_SIZES: [(&str, &str); 3] = [
    ("train", "~2800"),
    ("test", "~1600"),
    ("validation", "~2000"),
];

/// How many images to move: a count or a fraction of the pool.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Amount {
    /// Exactly this many images.
    Count(usize),
    /// This fraction of the pool (rounded).
    Fraction(f64),
}

/// What to do with the original `val` folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValFolder {
    /// Put its images in the pool the new subsets are drawn from (default).
    #[default]
    Fold,
    /// Keep it as its own subset, `val`.
    Keep,
}

/// Options of [`resplit`](super::resplit); see the module docs for the defaults and why.
#[derive(Debug, Clone)]
pub struct ResplitOptions {
    pub(super) test: Option<Amount>,
    pub(super) validation: Option<Amount>,
    pub(super) seed: u64,
    pub(super) stratify: bool,
    pub(super) by_patient: bool,
    pub(super) val_folder: ValFolder,
    pub(super) caches: Caches,
}

impl Default for ResplitOptions {
    fn default() -> Self {
        ResplitOptions {
            test: None,
            validation: None,
            seed: 42,
            stratify: true,
            by_patient: true,
            val_folder: ValFolder::Fold,
            caches: Caches::default(),
        }
    }
}

impl ResplitOptions {
    /// The defaults: the report's sizes, seed 42, stratified, grouped by patient, val folded in.
    pub fn new() -> Self {
        Self::default()
    }
    /// Images moved from the pool to test (default: the report's 1,000 when the pool has at least
    /// 5,216 images, else the same proportion of the pool).
    pub fn test(mut self, amount: Amount) -> Self {
        self.test = Some(amount);
        self
    }
    /// Images moved from the pool to the new validation subset (default: 2,000, or that proportion).
    pub fn validation(mut self, amount: Amount) -> Self {
        self.validation = Some(amount);
        self
    }
    /// The seed: the same seed gives the same split.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Keep each class's share in every subset (default: yes).
    pub fn stratify(mut self, yes: bool) -> Self {
        self.stratify = yes;
        self
    }
    /// Keep each patient's images in one subset (default: yes).
    pub fn by_patient(mut self, yes: bool) -> Self {
        self.by_patient = yes;
        self
    }
    /// Fold the original `val` folder into the pool or keep it as its own subset.
    pub fn val_folder(mut self, val: ValFolder) -> Self {
        self.val_folder = val;
        self
    }
    /// Keep the content hashes' cache in `folder` instead of the default
    /// ([`Caches::default`]).
    pub fn cache_in(mut self, folder: impl Into<PathBuf>) -> Self {
        self.caches = Caches::in_folder(folder);
        self
    }
    /// Where the content hashes' cache is kept.
    pub fn caches(&self) -> &Caches {
        &self.caches
    }
}
