//! The resplit: exact counts drawn from the training pool, stratified by class, whole patients and
//! identical files kept together.

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::recipe::{
    Amount, ResplitOptions, ValFolder, REPORT_TEST, REPORT_TRAIN_POOL, REPORT_VALIDATION,
};
use super::rows::{content_hashes, hash_files, read_rows, Rows};
use crate::columns;
use crate::error::{Error, PolarsContext, Result};
use crate::frame;

fn resolve(
    amount: Option<Amount>,
    default: usize,
    pool: usize,
    what: &'static str,
) -> Result<usize> {
    let n = match amount {
        None if pool >= REPORT_TRAIN_POOL => default,
        None => (pool as f64 * default as f64 / REPORT_TRAIN_POOL as f64).round() as usize,
        Some(Amount::Count(n)) => n,
        Some(Amount::Fraction(f)) if (0.0..1.0).contains(&f) => (pool as f64 * f).round() as usize,
        Some(Amount::Fraction(f)) => {
            return Err(Error::Parameter {
                name: what,
                value: f.to_string(),
                expected: "a fraction in [0, 1), or a count of images".into(),
            })
        }
    };
    Ok(n)
}

/// Resplit: move images from the training pool to test and to a new validation subset.
///
/// Returns `images` with a `subset` column. Disjoint by construction (each row gets one subset),
/// exact in size (see the module docs for the grouped case), and the same for the same seed.
/// Identical files always stay together, whatever their names: their contents are hashed (a
/// `content_hash` column is used when the table has one, see [`add_content_hash`](super::add_content_hash); else the
/// hashes are read from the cache or computed, about a second per GB, and added as that column,
/// so that [`leaks`](super::leaks) checks them without reading a file again).
/// Errors when the requested sizes do not fit the pool (they would empty the training set).
pub fn resplit(images: &DataFrame, options: &ResplitOptions) -> Result<DataFrame> {
    let rows = read_rows(
        images,
        &[columns::PATH, columns::SPLIT, columns::CLASS],
        "resplitting",
    )?;
    let in_pool = |i: usize| in_pool(&rows, options, i);
    let pool: Vec<usize> = (0..rows.path.len()).filter(|&i| in_pool(i)).collect();
    let (n_test, n_val) = sizes(&rows, options, pool.len())?;
    let hashes = match content_hashes(images)? {
        Some(hashes) => hashes,
        None => hash_files(&rows.path, options.caches().folder()),
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
    out.with_column(Column::new(columns::SUBSET.into(), column))
        .ctx("adding the subset column")?;
    if !frame::has_column(images, columns::CONTENT_HASH) {
        out.with_column(Column::new(columns::CONTENT_HASH.into(), hashes))
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
        return Err(Error::Incompatible {
            what: "resplitting".into(),
            reason: format!(
                "it needs a `train` split (or a dataset without split folders) to draw from; \
                 this table has none (its splits: {})",
                splits.into_iter().cloned().collect::<Vec<_>>().join(", ")
            ),
        });
    }
    let n_test = resolve(options.test, REPORT_TEST, pool, "test")?;
    let n_val = resolve(options.validation, REPORT_VALIDATION, pool, "validation")?;
    if n_test + n_val >= pool {
        return Err(Error::Parameter {
            name: "test + validation",
            value: format!("{n_test} + {n_val}"),
            expected: format!(
                "fewer than the {pool} training images: nothing would be left to train on (ask \
                 for fewer, or use fractions)"
            ),
        });
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
