//! The report's own method, reproduced as it was, to measure what it does (its overlap, its
//! drifting sizes).

use polars::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::recipe::{REPORT_SIZES, REPORT_TEST, REPORT_TRAIN_POOL, REPORT_VALIDATION};
use super::rows::read_rows;
use crate::columns;
use crate::error::{PolarsContext, Result};
use crate::frame;

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
    let rows = read_rows(
        images,
        &[columns::PATH, columns::SPLIT, columns::CLASS],
        "the report's method",
    )?;
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
        df!(columns::PATH => path, columns::CLASS => class, columns::PATIENT => patient, columns::SUBSET => subset)
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
        Column::new(columns::SUBSET.into(), subsets.clone()),
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
