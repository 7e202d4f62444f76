//! Split: the report's resplit, made disjoint, exact, reproducible and leak-free.
//!
//! The report moved 1,000 training images to the test set and 2,000 to a new validation set with
//! two independent Bernoulli samples (`train.sample(fraction=…, seed=42)` and `seed=43`). Those
//! samples overlap, their sizes are only approximate, and a random split of images puts one
//! patient's images on both sides. [`resplit`] keeps the report's shape and fixes all three:
//!
//! ```
//! use xray_lab::prelude::*;
//! # let tmp = tempfile::tempdir()?;
//! # synth::SynthOptions::new().scale(0.05).write(tmp.path())?;
//! let dataset = load::scan(tmp.path())?;
//! let options = split::ResplitOptions::new().seed(42);
//! # let options = options.cache_in(tmp.path().join("cache")); // tests keep off the user's cache
//! let images = split::resplit(&dataset.images, &options)?;
//! split::check_leakage(&images)?;                 // no path, content or patient in two subsets
//! let summary = split::summary(&images)?;         // subset x class counts and ratios
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The result is the image table with a `subset` column (`train`, `test`, `validation`, and
//! `val` when the original val folder is kept), so every later step just filters on it.
//!
//! **Defaults, and why.** Stratified and grouped by patient, with the original `val` folder
//! (16 images in Kaggle, too few to choose anything with) folded into the pool the new subsets are
//! drawn from. Stratifying keeps the class ratio (about 3 PNEUMONIA : 1 NORMAL) the same in every
//! subset, so accuracy and thresholds chosen on validation mean the same on test. Grouping by
//! patient keeps all of a person's images in one subset: otherwise the model is tested on people
//! it has already seen, and scores come out optimistic. With groups, sizes are exact whenever
//! single-image patients can fill the remainder (always, on the Kaggle data); otherwise the
//! subset is short by less than the largest patient's image count.

mod checked;
mod file;
mod leaks;
mod recipe;
mod report_method;
mod resplit;
mod rows;

pub use checked::{default_split, split_checked, split_with, summary, SplitCheck};
pub use file::{read_split, write_split};
pub use leaks::{
    add_content_hash, add_content_hash_in, check_leakage, leak_counts, leaks, shared_between,
    LeakCounts,
};
pub use recipe::{
    Amount, ResplitOptions, ValFolder, REPORT_SIZES, REPORT_TEST, REPORT_TRAIN_POOL,
    REPORT_VALIDATION,
};
pub use report_method::{compare_sizes, report_method, report_method_runs, ReportSplit};
pub use resplit::resplit;
