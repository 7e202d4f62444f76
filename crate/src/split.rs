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

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, PolarsContext, Result};
use crate::frame;

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

/// Options of [`resplit`]; see the module docs for the defaults and why.
#[derive(Debug, Clone)]
pub struct ResplitOptions {
    test: Option<Amount>,
    validation: Option<Amount>,
    seed: u64,
    stratify: bool,
    by_patient: bool,
    val_folder: ValFolder,
    cache_dir: Option<PathBuf>,
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
            cache_dir: None,
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
    /// Keep the content hashes' cache in `folder` instead of [`crate::env::cache_dir`].
    pub fn cache_in(mut self, folder: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(folder.into());
        self
    }
    fn cache_folder(&self) -> PathBuf {
        self.cache_dir.clone().unwrap_or_else(crate::env::cache_dir)
    }
}

/// The columns a split needs, read once.
struct Rows {
    path: Vec<String>,
    split: Vec<String>,
    class: Vec<String>,
    patient: Vec<Option<String>>,
}

/// Reads the columns; `needed` must be present (named in the error with `what`), the others
/// default to empty (`split`, `class`) or null (`patient`).
fn read_rows(images: &DataFrame, needed: &[&str], what: &str) -> Result<Rows> {
    frame::require(images, needed, what)?;
    let strings = |name: &str| -> Result<Vec<Option<String>>> {
        if !frame::has_column(images, name) {
            return Ok(vec![None; images.height()]);
        }
        frame::optional_strings(images, name)
    };
    let unwrap = |v: Vec<Option<String>>| {
        v.into_iter()
            .map(Option::unwrap_or_default)
            .collect::<Vec<_>>()
    };
    let patient = strings("patient")?;
    Ok(Rows {
        path: unwrap(strings("path")?),
        split: unwrap(strings("split")?),
        class: unwrap(strings("class")?),
        patient,
    })
}

fn resolve(amount: Option<Amount>, default: usize, pool: usize, what: &str) -> Result<usize> {
    let n = match amount {
        None if pool >= REPORT_TRAIN_POOL => default,
        None => (pool as f64 * default as f64 / REPORT_TRAIN_POOL as f64).round() as usize,
        Some(Amount::Count(n)) => n,
        Some(Amount::Fraction(f)) if (0.0..1.0).contains(&f) => (pool as f64 * f).round() as usize,
        Some(Amount::Fraction(f)) => {
            return Err(Error::InvalidInput(format!(
                "the {what} fraction must be in [0, 1), got {f}"
            )))
        }
    };
    Ok(n)
}

/// Resplit: move images from the training pool to test and to a new validation subset.
///
/// Returns `images` with a `subset` column. Disjoint by construction (each row gets one subset),
/// exact in size (see the module docs for the grouped case), and the same for the same seed.
/// Identical files always stay together, whatever their names: their contents are hashed (a
/// `content_hash` column is used when the table has one, see [`add_content_hash`]; else the
/// hashes are read from the cache or computed, about a second per GB, and added as that column,
/// so that [`leaks`] checks them without reading a file again).
/// Errors when the requested sizes do not fit the pool (they would empty the training set).
pub fn resplit(images: &DataFrame, options: &ResplitOptions) -> Result<DataFrame> {
    let rows = read_rows(images, &["path", "split", "class"], "resplitting")?;
    let in_pool = |i: usize| in_pool(&rows, options, i);
    let pool: Vec<usize> = (0..rows.path.len()).filter(|&i| in_pool(i)).collect();
    let (n_test, n_val) = sizes(&rows, options, pool.len())?;
    let hashes = match content_hashes(images)? {
        Some(hashes) => hashes,
        None => hash_files(&rows.path, &options.cache_folder()),
    };
    let keys = Keys {
        rows: &rows,
        hashes: &hashes,
        by_patient: options.by_patient,
    };
    // Images outside the pool keep their folder's name as their subset (test, val, any other).
    let mut subset: Vec<Option<&str>> = (0..rows.path.len())
        .map(|i| (!in_pool(i)).then(|| rows.split[i].as_str()))
        .collect();
    let mut units = units_of(&pool, &keys);
    let forced_test = pin_to_outside(&mut units, &keys, &in_pool, &mut subset);
    let strata = shuffled_strata(units, &rows.class, options);
    draw(
        &strata,
        n_test.saturating_sub(forced_test),
        n_val,
        &mut subset,
    );

    let mut out = frame::fresh(images);
    let column: Vec<&str> = subset.iter().map(|s| s.unwrap_or("train")).collect();
    out.with_column(Column::new("subset".into(), column))
        .ctx("adding the subset column")?;
    if !frame::has_column(images, "content_hash") {
        out.with_column(Column::new("content_hash".into(), hashes))
            .ctx("adding content hashes")?;
    }
    Ok(frame::fresh(&out))
}

/// The pool the new subsets are drawn from: the training split, the val folder when folded
/// in, and for a dataset without split folders (`root/CLASS/*`) its one split, so any
/// folder-per-class dataset resplits.
fn in_pool(rows: &Rows, options: &ResplitOptions, i: usize) -> bool {
    let split = rows.split[i].as_str();
    split == "train"
        || split == crate::load::SINGLE_SPLIT
        || (split == "val" && options.val_folder == ValFolder::Fold)
}

/// How many images go to test and to validation; an error when the pool is empty or the
/// sizes would leave nothing to train on.
fn sizes(rows: &Rows, options: &ResplitOptions, pool: usize) -> Result<(usize, usize)> {
    if pool == 0 {
        let splits: std::collections::BTreeSet<&String> = rows.split.iter().collect();
        return Err(Error::InvalidInput(format!(
            "resplitting needs a `train` split (or a dataset without split folders) to draw from; this table has none (its splits: {})",
            splits.into_iter().cloned().collect::<Vec<_>>().join(", ")
        )));
    }
    let n_test = resolve(options.test, REPORT_TEST, pool, "test")?;
    let n_val = resolve(options.validation, REPORT_VALIDATION, pool, "validation")?;
    if n_test + n_val >= pool {
        return Err(Error::InvalidInput(format!(
            "cannot move {n_test} images to test and {n_val} to validation from a pool of {pool} training images: \
             nothing would be left to train on (ask for fewer, or use fractions)"
        )));
    }
    Ok((n_test, n_val))
}

/// What ties images together: the same patient (when grouping by patient) or the same content.
struct Keys<'a> {
    rows: &'a Rows,
    hashes: &'a [Option<String>],
    by_patient: bool,
}

impl Keys<'_> {
    fn of(&self, i: usize) -> impl Iterator<Item = String> + '_ {
        let patient = self.rows.patient[i]
            .as_deref()
            .filter(|_| self.by_patient)
            .map(|p| format!("p:{p}"));
        let hash = self.hashes[i].as_deref().map(|h| format!("h:{h}"));
        patient.into_iter().chain(hash)
    }
}

/// Units: a patient's images together (or each image alone), and identical files together, so
/// neither a patient nor a duplicated image can straddle two subsets. Keyed by their first
/// path so their order is stable.
fn units_of(pool: &[usize], keys: &Keys) -> BTreeMap<String, Vec<usize>> {
    let mut parent: Vec<usize> = (0..keys.rows.path.len()).collect();
    let mut first_of: HashMap<String, usize> = HashMap::new();
    for &i in pool {
        for key in keys.of(i) {
            let j = *first_of.entry(key).or_insert(i);
            union(&mut parent, i, j);
        }
    }
    let mut units: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for &i in pool {
        let root = find(&mut parent, i);
        units
            .entry(keys.rows.path[root].clone())
            .or_default()
            .push(i);
    }
    units
}

/// A pool unit that shares a patient or a file content with an image outside the pool (the
/// kept test folder, say) joins that image's subset, or it would leak. Returns how many images
/// were so put in test.
fn pin_to_outside<'a>(
    units: &mut BTreeMap<String, Vec<usize>>,
    keys: &Keys<'a>,
    in_pool: &dyn Fn(usize) -> bool,
    subset: &mut [Option<&'a str>],
) -> usize {
    let mut outside: HashMap<String, &'a str> = HashMap::new();
    for i in (0..keys.rows.path.len()).filter(|&i| !in_pool(i)) {
        for key in keys.of(i) {
            outside.entry(key).or_insert(keys.rows.split[i].as_str());
        }
    }
    let mut forced_test = 0;
    units.retain(|_, members| {
        let Some(target) = members
            .iter()
            .find_map(|&i| keys.of(i).find_map(|k| outside.get(&k).copied()))
        else {
            return true;
        };
        for &i in members.iter() {
            subset[i] = Some(target);
        }
        if target == "test" {
            forced_test += members.len();
        }
        false
    });
    forced_test
}

/// The units shuffled with the seed, then grouped in strata: by each unit's majority class
/// when stratifying, else one stratum.
fn shuffled_strata(
    units: BTreeMap<String, Vec<usize>>,
    class: &[String],
    options: &ResplitOptions,
) -> BTreeMap<String, Vec<Vec<usize>>> {
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut units: Vec<Vec<usize>> = units.into_values().collect();
    units.shuffle(&mut rng);
    let mut strata: BTreeMap<String, Vec<Vec<usize>>> = BTreeMap::new();
    for unit in units {
        let key = if options.stratify {
            majority_class(&unit, class)
        } else {
            String::new()
        };
        strata.entry(key).or_default().push(unit);
    }
    strata
}

/// Fills test, then validation, from each stratum in proportion to its size (whole units only,
/// in shuffled order); the units left are train.
fn draw(
    strata: &BTreeMap<String, Vec<Vec<usize>>>,
    n_test: usize,
    n_val: usize,
    subset: &mut [Option<&str>],
) {
    let sizes: Vec<(String, usize)> = strata
        .iter()
        .map(|(k, u)| (k.clone(), u.iter().map(Vec::len).sum()))
        .collect();
    let total: usize = sizes.iter().map(|s| s.1).sum();
    let test_quota = largest_remainder(n_test, &sizes, total);
    let val_quota = largest_remainder(n_val, &sizes, total);
    for (units, (tq, vq)) in strata.values().zip(test_quota.into_iter().zip(val_quota)) {
        let mut taken = vec![false; units.len()];
        for (quota, name) in [(tq, "test"), (vq, "validation")] {
            let mut filled = 0;
            for (u, unit) in units.iter().enumerate() {
                if filled == quota {
                    break;
                }
                if !taken[u] && filled + unit.len() <= quota {
                    taken[u] = true;
                    filled += unit.len();
                    for &i in unit {
                        subset[i] = Some(name);
                    }
                }
            }
        }
        for (u, unit) in units.iter().enumerate() {
            if !taken[u] {
                for &i in unit {
                    subset[i] = Some("train");
                }
            }
        }
    }
}

/// The `content_hash` column, when the table has one.
fn content_hashes(images: &DataFrame) -> Result<Option<Vec<Option<String>>>> {
    if !frame::has_column(images, "content_hash") {
        return Ok(None);
    }
    let column = frame::column(images, "content_hash")?;
    let hashes = column.str().ctx("reading content hashes")?;
    Ok(Some(hashes.iter().map(|h| h.map(str::to_string)).collect()))
}

// Union-find over row indices (a dozen lines; not worth a crate): rows that share a patient or a
// file content end up with one root.
fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    // The smaller index becomes the root, so units do not depend on the order of unions.
    let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
    parent[hi] = lo;
}

fn majority_class(unit: &[usize], class: &[String]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for &i in unit {
        *counts.entry(class[i].as_str()).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|&(c, n)| (n, std::cmp::Reverse(c)))
        .map(|(c, _)| c.to_string())
        .unwrap_or_default()
}

/// Split `n` over strata in proportion to their sizes, rounding so the parts add up to `n`
/// (the largest-remainder method): each stratum is within one image of its exact share.
fn largest_remainder(n: usize, sizes: &[(String, usize)], total: usize) -> Vec<usize> {
    if total == 0 {
        return vec![0; sizes.len()];
    }
    let exact: Vec<f64> = sizes
        .iter()
        .map(|s| n as f64 * s.1 as f64 / total as f64)
        .collect();
    let mut parts: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    let short = n.saturating_sub(parts.iter().sum());
    for &i in order.iter().take(short) {
        parts[i] += 1;
    }
    parts
}

/// The report's method, reproduced as it was, to measure what it does.
#[derive(Debug, Clone)]
pub struct ReportSplit {
    /// One row per (image, subset) membership: `path`, `class`, `patient`, `subset`; an image
    /// sampled twice
    /// appears in both `test` and `validation`.
    pub memberships: DataFrame,
    /// Images drawn by the test sample (`fraction = 1000 / count`, seed 42).
    pub test_sample: usize,
    /// Images drawn by the validation sample (`fraction = 2000 / count`, seed 43).
    pub validation_sample: usize,
    /// Images drawn by both samples: in the new test set and in validation at once.
    pub overlap: usize,
    /// Training images left after subtracting both samples.
    pub train: usize,
    /// The original test images plus the test sample.
    pub test: usize,
}

impl ReportSplit {
    /// The counts as a one-row table (what a `ReportSplit` at the end of a notebook cell shows).
    pub fn overview(&self) -> Result<DataFrame> {
        df!(
            "drawn for test" => [self.test_sample as u64],
            "drawn for validation" => [self.validation_sample as u64],
            "drawn by both" => [self.overlap as u64],
            "train left" => [self.train as u64],
            "test in all" => [self.test as u64],
        )
        .ctx("describing the report's split")
    }

    /// evcxr's display hook: [`overview`](Self::overview).
    pub fn evcxr_display(&self) {
        crate::frame::show(self.overview())
    }
}

/// The report's resplit: two independent Bernoulli samples of the training split (fractions
/// 1,000 / count and 2,000 / count, or the same proportions of a pool smaller than 5,216; here seeded with `seed` and `seed + 1`; Spark's own generator
/// differs, so the exact rows do too, not the method), subtracted from train; the test sample is
/// added to the original test set and the original val folder is ignored.
pub fn report_method(images: &DataFrame, seed: u64) -> Result<ReportSplit> {
    let rows = read_rows(images, &["path", "split", "class"], "the report's method")?;
    let train: Vec<usize> = (0..rows.path.len())
        .filter(|&i| rows.split[i] == "train")
        .collect();
    let count = train.len().max(1) as f64;
    let mut test_rng = ChaCha8Rng::seed_from_u64(seed);
    let mut val_rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(1));
    // The report's fractions, 1,000 / count and 2,000 / count; on a pool smaller than Kaggle's
    // 5,216 images, the same proportions (0.192 and 0.383), so the method stays comparable.
    let base = count.max(REPORT_TRAIN_POOL as f64);
    let (p_test, p_val) = (REPORT_TEST as f64 / base, REPORT_VALIDATION as f64 / base);
    let (mut path, mut class, mut patient, mut subset) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut push = |i: usize, s: &'static str| {
        path.push(rows.path[i].clone());
        class.push(rows.class[i].clone());
        patient.push(rows.patient[i].clone());
        subset.push(s);
    };
    let (mut test_sample, mut validation_sample, mut overlap, mut left, mut test) = (0, 0, 0, 0, 0);
    for i in 0..rows.path.len() {
        if rows.split[i] == "test" {
            push(i, "test");
            test += 1;
        }
    }
    for &i in &train {
        let in_test = test_rng.random_bool(p_test);
        let in_val = val_rng.random_bool(p_val);
        test_sample += in_test as usize;
        validation_sample += in_val as usize;
        overlap += (in_test && in_val) as usize;
        if in_test {
            push(i, "test");
            test += 1;
        }
        if in_val {
            push(i, "validation");
        }
        if !in_test && !in_val {
            push(i, "train");
            left += 1;
        }
    }
    let memberships =
        df!("path" => path, "class" => class, "patient" => patient, "subset" => subset)
            .ctx("building the report's split")?;
    Ok(ReportSplit {
        memberships,
        test_sample,
        validation_sample,
        overlap,
        train: left,
        test,
    })
}

/// The split every later notebook and command starts from: the file named by `$XRAY_LAB_SPLIT`
/// when it is set (an exact split shared by someone else), else [`resplit`] with the defaults
/// (seed 42, stratified, grouped by patient and by file content). Either way the result is
/// checked with [`check_leakage`]: no path, file content or patient in two subsets.
pub fn default_split(dataset: &crate::load::Dataset) -> Result<DataFrame> {
    split_with(
        dataset,
        crate::env::split_file().as_deref(),
        &ResplitOptions::new(),
    )
}

/// The one split recipe behind every entry point (`xray-lab split`, `train`, `report`, and
/// [`default_split`] in the notebooks): the split `file` when one is given, else [`resplit`]
/// with `options`; then [`check_leakage`]. Returns the image table with its `subset` column.
pub fn split_with(
    dataset: &crate::load::Dataset,
    file: Option<&Path>,
    options: &ResplitOptions,
) -> Result<DataFrame> {
    Ok(split_checked(dataset, file, options)?.0)
}

/// What the leak checks of a split found: how many images were hashed, how many files have an
/// identical twin (kept in one subset), how many patients have several images (kept in one
/// subset when grouping by patient), and how many images leak (0 unless the split came from a
/// file and [`check_leakage`] was not asked to fail).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SplitCheck {
    /// Images whose content was hashed.
    pub images: usize,
    /// Images that share their content with at least one other image.
    pub duplicate_images: usize,
    /// Groups of identical files.
    pub duplicate_groups: usize,
    /// Patients with more than one image.
    pub patients_with_several_images: usize,
    /// Images that share a path, content or patient with an image of another subset.
    pub leaking_images: usize,
}

/// [`split_with`], with what its leak checks found.
pub fn split_checked(
    dataset: &crate::load::Dataset,
    file: Option<&Path>,
    options: &ResplitOptions,
) -> Result<(DataFrame, SplitCheck)> {
    let hashed = add_content_hash_in(&dataset.images, &options.cache_folder())?;
    let split = match file {
        Some(file) => read_split(&hashed, &dataset.root, file)?,
        None => resplit(&hashed, options)?,
    };
    let found = leaks(&split)?;
    let rows = read_rows(&split, &["path"], "checking a split")?;
    let mut check = SplitCheck {
        images: split.height(),
        leaking_images: found.height(),
        ..SplitCheck::default()
    };
    let mut by_hash: HashMap<&str, usize> = HashMap::new();
    let hashes = content_hashes(&split)?.unwrap_or_default();
    for hash in hashes.iter().flatten() {
        *by_hash.entry(hash.as_str()).or_default() += 1;
    }
    check.duplicate_groups = by_hash.values().filter(|&&n| n > 1).count();
    check.duplicate_images = by_hash.values().filter(|&&n| n > 1).sum();
    let mut by_patient: HashMap<&str, usize> = HashMap::new();
    for patient in rows.patient.iter().flatten() {
        *by_patient.entry(patient.as_str()).or_default() += 1;
    }
    check.patients_with_several_images = by_patient.values().filter(|&&n| n > 1).count();
    if check.leaking_images > 0 {
        return Err(Error::Leak {
            images: found.height(),
            rows: format!("{}", found.head(Some(10))),
        });
    }
    let images = frame::fresh(&split.drop("content_hash").ctx("dropping content hashes")?);
    Ok((images, check))
}

/// The report's method run with several seeds: one row per seed with the sizes of the two
/// samples, their overlap, and the overlap's share of the test sample. Shows that the sizes
/// drift from run to run and that about a third of the test sample is also in validation.
pub fn report_method_runs(
    images: &DataFrame,
    seeds: impl IntoIterator<Item = u64>,
) -> Result<DataFrame> {
    let (mut seed, mut test, mut validation, mut overlap, mut share) =
        (vec![], vec![], vec![], vec![], vec![]);
    for s in seeds {
        let run = report_method(images, s)?;
        seed.push(s);
        test.push(run.test_sample as u32);
        validation.push(run.validation_sample as u32);
        overlap.push(run.overlap as u32);
        share.push(run.overlap as f64 / run.test_sample.max(1) as f64);
    }
    let out = df!(
        "seed" => seed,
        "test_sample" => test,
        "validation_sample" => validation,
        "overlap" => overlap,
        "overlap_share_of_test" => share,
    )
    .ctx("tabulating the report's method")?;
    Ok(frame::fresh(&out))
}

/// Images per subset for several tables side by side, next to the report's stated sizes:
/// columns `subset`, `report` (its approximate numbers), then one column per table.
///
/// Each table is an image table with a `subset` (or `split`) column; counts that a table lacks
/// are 0.
pub fn compare_sizes(tables: &[(&str, &DataFrame)]) -> Result<DataFrame> {
    let mut per_table: Vec<Vec<(String, u32)>> = Vec::new();
    let mut subsets: Vec<String> = REPORT_SIZES.iter().map(|r| r.0.to_string()).collect();
    for (_, images) in tables {
        let group = crate::subset::column_of(images, "comparing subset sizes")?;
        let counts = crate::load::counts(images, group)?;
        let names = frame::column(&counts, group)?
            .str()
            .ctx("subset names")?
            .clone();
        let n = frame::column(&counts, "images")?
            .u32()
            .ctx("counts")?
            .clone();
        let mut totals: Vec<(String, u32)> = Vec::new();
        for (name, n) in names.iter().zip(n.iter()) {
            let name = name.unwrap_or_default().to_string();
            match totals.iter_mut().find(|t| t.0 == name) {
                Some(t) => t.1 += n.unwrap_or(0),
                None => totals.push((name, n.unwrap_or(0))),
            }
        }
        for (name, _) in &totals {
            if !subsets.contains(name) {
                subsets.push(name.clone());
            }
        }
        per_table.push(totals);
    }
    subsets.sort_by_key(|s| crate::subset::Subset::from(s.as_str()));
    let report: Vec<Option<&str>> = subsets
        .iter()
        .map(|s| REPORT_SIZES.iter().find(|r| r.0 == s).map(|r| r.1))
        .collect();
    let mut columns = vec![
        Column::new("subset".into(), subsets.clone()),
        Column::new("report".into(), report),
    ];
    for ((name, _), totals) in tables.iter().zip(&per_table) {
        let values: Vec<u32> = subsets
            .iter()
            .map(|s| totals.iter().find(|t| &t.0 == s).map_or(0, |t| t.1))
            .collect();
        columns.push(Column::new((*name).into(), values));
    }
    DataFrame::new_infer_height(columns).ctx("comparing subset sizes")
}

/// Subset x class counts and ratios: columns `subset`, `class`, `images`, `share_of_subset`
/// (the class's share within its subset) and `share_of_all` (the subset's images over all).
pub fn summary(images: &DataFrame) -> Result<DataFrame> {
    let counts = crate::load::counts(images, "subset")?;
    let total = images.height().max(1) as f64;
    let per_subset = col("images")
        .sum()
        .over([col("subset")])
        .ctx("summing images per subset")?;
    let out = counts
        .lazy()
        .with_columns([
            (col("images").cast(DataType::Float64) / per_subset.cast(DataType::Float64))
                .alias("share_of_subset"),
            (col("images").cast(DataType::Float64) / lit(total)).alias("share_of_all"),
        ])
        .collect()
        .ctx("summarising the split")?;
    Ok(frame::fresh(&out))
}

/// Rows that break a split: the same path, the same file content, or the same patient in more
/// than one subset. Contents are compared by hash: the table's `content_hash` column when it has
/// one (see [`add_content_hash`]), else hashes from the cache or computed.
///
/// Returns a DataFrame with columns `kind` (`path`, `content` or `patient`), `key`, `subset` and
/// `path`, one row per offending image; empty when the split is clean.
pub fn leaks(images: &DataFrame) -> Result<DataFrame> {
    let rows = read_rows(
        images,
        &["path", "subset"],
        "a leakage check (see split::resplit)",
    )?;
    let subset: Vec<String> = {
        frame::require(images, &["subset"], "a leakage check (see split::resplit)")?;
        let c = frame::column(images, "subset")?;
        c.str()
            .ctx("reading subsets")?
            .iter()
            .map(|s| s.unwrap_or_default().to_string())
            .collect()
    };
    let hashes = match content_hashes(images)? {
        Some(hashes) => Some(hashes),
        None => Some(hash_files(&rows.path, &crate::env::cache_dir())),
    };
    let mut kinds: Vec<(&str, Vec<Option<String>>)> = vec![
        ("path", rows.path.iter().cloned().map(Some).collect()),
        ("patient", rows.patient.clone()),
    ];
    if let Some(h) = hashes {
        kinds.insert(1, ("content", h));
    }
    let (mut kind, mut key, mut sub, mut path) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (name, keys) in kinds {
        let mut subsets_of: HashMap<&str, std::collections::BTreeSet<&str>> = HashMap::new();
        for (i, k) in keys.iter().enumerate() {
            if let Some(k) = k {
                subsets_of.entry(k).or_default().insert(&subset[i]);
            }
        }
        for (i, k) in keys.iter().enumerate() {
            if let Some(k) = k {
                if subsets_of[k.as_str()].len() > 1 {
                    kind.push(name);
                    key.push(k.clone());
                    sub.push(subset[i].clone());
                    path.push(rows.path[i].clone());
                }
            }
        }
    }
    df!("kind" => kind, "key" => key, "subset" => sub, "path" => path).ctx("listing leaks")
}

/// How much a split leaks: distinct images (paths) and distinct patients found in more than one
/// subset ([`leaks`] lists the rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeakCounts {
    /// Images in two subsets or more.
    pub images: usize,
    /// Patients with images in two subsets or more.
    pub patients: usize,
}

/// [`LeakCounts`] of a split (a resplit, or the report's memberships).
pub fn leak_counts(images: &DataFrame) -> Result<LeakCounts> {
    let found = leaks(images)?;
    let kinds = frame::strings(&found, "kind")?;
    let keys = frame::strings(&found, "key")?;
    let distinct = |kind: &str| {
        let mut k: Vec<&String> = kinds
            .iter()
            .zip(&keys)
            .filter(|(k, _)| *k == kind)
            .map(|(_, key)| key)
            .collect();
        k.sort();
        k.dedup();
        k.len()
    };
    Ok(LeakCounts {
        images: distinct("path"),
        patients: distinct("patient"),
    })
}

/// For each pair of subsets (`train & test`, ...), the distinct images and patients found in
/// both: columns `pair`, `images`, `patients`. Pairs in the report's order; a clean split has
/// zeros everywhere.
pub fn shared_between(images: &DataFrame) -> Result<DataFrame> {
    let rows = read_rows(images, &["path", "subset"], "counting what subsets share")?;
    let subset = frame::strings(images, "subset")?;
    let mut names: Vec<String> = subset.clone();
    names.sort_by_key(|n| (crate::subset::Subset::from(n.as_str()).rank(), n.clone()));
    names.dedup();
    let members = |keys: &[Option<String>], name: &str| -> std::collections::BTreeSet<String> {
        keys.iter()
            .zip(&subset)
            .filter(|(_, s)| *s == name)
            .filter_map(|(k, _)| k.clone())
            .collect()
    };
    let paths: Vec<Option<String>> = rows.path.iter().cloned().map(Some).collect();
    let (mut pair, mut shared_images, mut shared_patients) = (Vec::new(), Vec::new(), Vec::new());
    for (i, a) in names.iter().enumerate() {
        for b in &names[i + 1..] {
            pair.push(format!("{a} & {b}"));
            let both = |keys: &[Option<String>]| {
                members(keys, a).intersection(&members(keys, b)).count() as u64
            };
            shared_images.push(both(&paths));
            shared_patients.push(both(&rows.patient));
        }
    }
    df!("pair" => pair, "images" => shared_images, "patients" => shared_patients)
        .ctx("counting what subsets share")
}

/// Fail loudly when a split leaks: [`Error::Leak`] names how many images and shows the first
/// offending rows. See [`leaks`] for the whole table.
pub fn check_leakage(images: &DataFrame) -> Result<()> {
    let found = leaks(images)?;
    if found.height() == 0 {
        return Ok(());
    }
    Err(Error::Leak {
        images: found.height(),
        rows: format!("{}", found.head(Some(10))),
    })
}

/// Add a `content_hash` column: a 128-bit XXH3 of each file's bytes, read in parallel, so
/// [`leaks`] also finds identical images under different names. Unreadable files get null.
/// Hashes are cached with the header facts (see [`crate::cache`]) while a file keeps its size
/// and modification time, so a second call reads no file.
pub fn add_content_hash(images: &DataFrame) -> Result<DataFrame> {
    add_content_hash_in(images, &crate::env::cache_dir())
}

/// [`add_content_hash`], with the hashes' cache kept in `folder`.
pub fn add_content_hash_in(images: &DataFrame, folder: &Path) -> Result<DataFrame> {
    let rows = read_rows(images, &["path"], "hashing file contents")?;
    let hashes = hash_files(&rows.path, folder);
    let mut out = frame::fresh(images);
    out.with_column(Column::new("content_hash".into(), hashes))
        .ctx("adding content hashes")?;
    Ok(frame::fresh(&out))
}

/// A 128-bit XXH3 of each file's bytes (null when it cannot be read), in parallel, reused from
/// the file facts cache in `folder` while a file keeps its size and modification time.
fn hash_files(paths: &[String], folder: &Path) -> Vec<Option<String>> {
    // A table of paths that are not files (a hand-made one, say) has nothing to hash or cache.
    if !paths.iter().any(|p| Path::new(p).is_file()) {
        return vec![None; paths.len()];
    }
    let mut cache = crate::facts::FileFacts::open(folder);
    let hashed: Vec<(String, Option<crate::files::Stamp>, Option<String>, bool)> = paths
        .par_iter()
        .map(|p| {
            let key = crate::files::key(p);
            let stamp = crate::files::Stamp::of(Path::new(p));
            if let Some(hash) = stamp.as_ref().and_then(|s| cache.hash(&key, s)) {
                return (key, stamp, Some(hash), false);
            }
            let hash = std::fs::read(Path::new(p))
                .ok()
                .map(|b| format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&b)));
            (key, stamp, hash, true)
        })
        .collect();
    let mut hashes = Vec::with_capacity(hashed.len());
    for (key, stamp, hash, computed) in hashed {
        if let (true, Some(stamp), Some(hash)) = (computed, stamp, &hash) {
            cache.set_hash(&key, &stamp, hash.clone());
        }
        hashes.push(hash);
    }
    cache.save();
    hashes
}

/// Write a split as a CSV a user can share: one row per image, `path` (relative to `root`, with
/// `/` separators) and `subset`.
pub fn write_split(
    images: &DataFrame,
    root: impl AsRef<Path>,
    file: impl AsRef<Path>,
) -> Result<()> {
    let (root, file) = (root.as_ref(), file.as_ref());
    if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    let rows = read_rows(images, &["path", "subset"], "writing a split")?;
    frame::require(images, &["subset"], "writing a split")?;
    let subset = frame::column(images, "subset")?;
    let subset = subset.str().ctx("reading subsets")?;
    let mut writer = csv::Writer::from_path(file).map_err(|e| csv_error(file, e))?;
    writer
        .write_record(["path", "subset"])
        .map_err(|e| csv_error(file, e))?;
    for (p, s) in rows.path.iter().zip(subset.iter()) {
        writer
            .write_record([relative(root, p), s.unwrap_or_default().to_string()])
            .map_err(|e| csv_error(file, e))?;
    }
    writer.flush().map_err(|e| Error::io(file, e))
}

/// Apply a split file written by [`write_split`] to a scanned table: returns `images` with the
/// file's `subset` column. Errors name the file and the first image it lacks or the first row
/// that matches no image.
pub fn read_split(
    images: &DataFrame,
    root: impl AsRef<Path>,
    file: impl AsRef<Path>,
) -> Result<DataFrame> {
    let (root, file) = (root.as_ref(), file.as_ref());
    let mut reader = csv::Reader::from_path(file).map_err(|e| csv_error(file, e))?;
    let mut by_path: HashMap<String, String> = HashMap::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| csv_error(file, e))?;
        match (record.get(0), record.get(1)) {
            (Some(p), Some(s)) if !s.is_empty() => {
                by_path.insert(p.to_string(), s.to_string());
            }
            _ => {
                return Err(Error::Format {
                    path: file.to_path_buf(),
                    reason: format!("row {} needs a path and a subset", line + 2),
                })
            }
        }
    }
    let rows = read_rows(images, &["path"], "reading a split")?;
    let mut subset = Vec::with_capacity(rows.path.len());
    for p in &rows.path {
        let rel = relative(root, p);
        match by_path.remove(&rel) {
            Some(s) => subset.push(s),
            None => {
                return Err(Error::Format {
                    path: file.to_path_buf(),
                    reason: format!(
                        "has no subset for image {rel} (the split was made for another dataset?)"
                    ),
                })
            }
        }
    }
    if let Some(extra) = by_path.keys().min() {
        return Err(Error::Format {
            path: file.to_path_buf(),
            reason: format!(
                "lists {} images that are not in the dataset, e.g. {extra}",
                by_path.len()
            ),
        });
    }
    let mut out = frame::fresh(images);
    out.with_column(Column::new("subset".into(), subset))
        .ctx("adding the subset column")?;
    Ok(frame::fresh(&out))
}

fn relative(root: &Path, path: &str) -> String {
    let p = Path::new(path);
    let rel = p.strip_prefix(root).unwrap_or(p);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn csv_error(file: &Path, source: csv::Error) -> Error {
    Error::Csv {
        path: file.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_remainder_adds_up_and_stays_within_one() {
        let sizes = vec![("a".to_string(), 1341), ("b".to_string(), 3875)];
        let parts = largest_remainder(1000, &sizes, 5216);
        assert_eq!(parts.iter().sum::<usize>(), 1000);
        assert_eq!(parts, [257, 743]);
    }
}
