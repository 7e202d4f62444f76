//! Shortcut: is the model looking at the lungs, or at how the file was made?
//!
//! On the Kaggle X-rays the class can be read off the file. Measured on 1,595 of its files
//! (shared MEASUREMENTS.md): NORMAL films are larger (median 1,654x1,353 against 1,168x776), 411
//! of 419 NORMAL files carry EXIF and an ICC profile while no PNEUMONIA file has an ICC profile,
//! and models on file facts alone reach a test ROC AUC of 0.975-0.981, as high as the pixel
//! models. This module measures how much of a model's score is that shortcut:
//!
//! * [`acquisition`]: the header facts per class, the pattern a model can learn;
//! * [`matched_test`]: a test subset matched on acquisition (each NORMAL film paired with a
//!   PNEUMONIA film of about the same width and height), and [`on_matched`], every model's
//!   metrics on the usual test set beside the matched one;
//! * size-blind decoding ([`DecodeOptions::size_blind`](crate::decode::DecodeOptions::size_blind)),
//!   which stops the image's size from choosing how it is decoded;
//! * occlusion maps ([`crate::occlusion`]): where on the image a model's score comes from.
//!
//! ```
//! use xray_lab::prelude::*;
//! let facts = df!(
//!     "path" => ["n1", "n2", "p1", "p2"],
//!     "class" => ["NORMAL", "NORMAL", "PNEUMONIA", "PNEUMONIA"],
//!     "subset" => ["test"; 4],
//!     "width" => [1600u32, 2400, 1550, 900],
//!     "height" => [1300u32, 2000, 1280, 600],
//! )?;
//! let matched = shortcut::matched_test(&facts, Subset::Test, 0.1)?;
//! assert_eq!(matched.pairs(), 1); // n1 with p1; n2 has no PNEUMONIA film of its size
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashSet;

use polars::prelude::*;

use crate::columns;
use crate::error::PolarsContext;
use crate::subset::Subset;
use crate::train::metrics::Metrics;
use crate::train::Evaluation;
use crate::{frame, Error, Result};

/// The default tolerance of [`matched_test`]: widths and heights within about 10%.
pub const DEFAULT_TOLERANCE: f64 = 0.1;

/// The header facts per class, from the table of [`crate::facts::facts`]: `class`, `images`,
/// the share of files with `EXIF`, `ICC`, `progressive`, `RGB` (3 channels), a JFIF density in
/// `dpi`, and the `median quality`, `median width`, `median height` and `median aspect`.
pub fn acquisition(facts: &DataFrame) -> Result<DataFrame> {
    frame::require(
        facts,
        &[
            columns::CLASS,
            "width",
            "height",
            "channels",
            "progressive",
            "exif",
            "icc",
            "jfif_units",
            "quality",
        ],
        "the acquisition facts per class",
    )?;
    let share = |e: Expr, name: &str| e.cast(DataType::Float64).mean().alias(name);
    let out = frame::fresh(facts)
        .lazy()
        .filter(col("width").is_not_null())
        .group_by([col(columns::CLASS)])
        .agg([
            len().cast(DataType::UInt32).alias("images"),
            share(col("exif").fill_null(lit(false)), "EXIF"),
            share(col("icc").fill_null(lit(false)), "ICC"),
            share(col("progressive").fill_null(lit(false)), "progressive"),
            share(col("channels").eq(lit(3u32)), "RGB"),
            share(
                col("jfif_units").eq(lit("dpi")).fill_null(lit(false)),
                "dpi",
            ),
            col("quality").median().alias("median quality"),
            col("width")
                .cast(DataType::Float64)
                .median()
                .alias("median width"),
            col("height")
                .cast(DataType::Float64)
                .median()
                .alias("median height"),
            (col("width").cast(DataType::Float64) / col("height").cast(DataType::Float64))
                .median()
                .alias("median aspect"),
        ])
        .sort([columns::CLASS], SortMultipleOptions::default())
        .collect()
        .ctx("the acquisition facts per class")?;
    Ok(frame::fresh(&out))
}

/// A test subset matched on acquisition: pairs of a NORMAL and a PNEUMONIA film of about the
/// same width and height, so that the size no longer tells the class. Made by [`matched_test`].
#[derive(Debug, Clone)]
pub struct Matched {
    /// The subset matched in.
    pub subset: Subset,
    /// The tolerance: both sides within a factor `exp(tolerance)`.
    pub tolerance: f64,
    /// NORMAL and PNEUMONIA films in the subset (with a readable header).
    pub available: [usize; 2],
    table: DataFrame,
    paths: HashSet<String>,
}

impl Matched {
    /// How many pairs were matched (each one NORMAL and one PNEUMONIA film).
    pub fn pairs(&self) -> usize {
        self.table.height()
    }

    /// The pairs: `normal`, `pneumonia` (paths), `normal_width`, `normal_height`,
    /// `pneumonia_width`, `pneumonia_height`, and `distance` (the larger of the two sides' log
    /// ratios; 0.1 is about 10%).
    pub fn table(&self) -> &DataFrame {
        &self.table
    }

    /// Whether an image (by path) is in a matched pair.
    pub fn contains(&self, path: &str) -> bool {
        self.paths.contains(path)
    }

    /// The paths of every matched image.
    pub fn paths(&self) -> &HashSet<String> {
        &self.paths
    }

    /// The counts as a one-row table: `subset`, `NORMAL available`, `PNEUMONIA available`,
    /// `pairs`, `NORMAL matched share`.
    pub fn summary(&self) -> Result<DataFrame> {
        df!(
            columns::SUBSET => [self.subset.name()],
            "NORMAL available" => [self.available[0] as u32],
            "PNEUMONIA available" => [self.available[1] as u32],
            "pairs" => [self.pairs() as u32],
            "NORMAL matched share" => [self.pairs() as f64 / self.available[0].max(1) as f64],
        )
        .ctx("summarising the matched test")
    }

    /// evcxr's display hook: the summary.
    pub fn evcxr_display(&self) {
        crate::frame::show(self.summary())
    }
}

/// One film of the subset: path, width, height.
type Film = (String, f64, f64);

/// Matches NORMAL to PNEUMONIA films of `subset` on acquisition: two films match when both
/// their widths and their heights are within a factor `exp(tolerance)` (0.1: about 10%), which
/// also keeps their aspects within twice that. Each film is used once; the closest pairs are
/// taken first (ties by path), so the result is the same on every run. `facts` is the table of
/// [`crate::facts::facts`] with the subset column.
///
/// The matched subset is balanced by construction (as many NORMAL as PNEUMONIA films) and lies
/// inside `subset`. On the Kaggle files, where NORMAL films are much larger, only part of the
/// NORMAL films find a partner: [`Matched::summary`] says how many.
pub fn matched_test(
    facts: &DataFrame,
    subset: impl Into<Subset>,
    tolerance: f64,
) -> Result<Matched> {
    if !(tolerance.is_finite() && tolerance > 0.0) {
        return Err(Error::Parameter {
            name: "tolerance",
            value: tolerance.to_string(),
            expected: "a positive log ratio (0.1 is about 10%)".into(),
        });
    }
    let subset = subset.into();
    let column = crate::subset::column_of(facts, "matching on acquisition")?;
    frame::require(
        facts,
        &[columns::PATH, columns::CLASS, "width", "height"],
        "matching on acquisition",
    )?;
    let (normal, pneumonia) = films_by_class(facts, column, &subset)?;
    let pairs = greedy_pairs(&normal, &pneumonia, tolerance);
    let (mut n_path, mut p_path) = (Vec::new(), Vec::new());
    let (mut n_w, mut n_h, mut p_w, mut p_h, mut distances) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for &(distance, a, b) in &pairs {
        let ((np, nw, nh), (pp, pw, ph)) = (&normal[a], &pneumonia[b]);
        n_path.push(np.clone());
        p_path.push(pp.clone());
        n_w.push(*nw as u32);
        n_h.push(*nh as u32);
        p_w.push(*pw as u32);
        p_h.push(*ph as u32);
        distances.push(distance);
    }
    let paths: HashSet<String> = n_path.iter().chain(&p_path).cloned().collect();
    let table = df!(
        "normal" => n_path,
        "pneumonia" => p_path,
        "normal_width" => n_w,
        "normal_height" => n_h,
        "pneumonia_width" => p_w,
        "pneumonia_height" => p_h,
        "distance" => distances,
    )
    .ctx("listing the matched pairs")?;
    Ok(Matched {
        subset,
        tolerance,
        available: [normal.len(), pneumonia.len()],
        table: frame::fresh(&table),
        paths,
    })
}

/// The NORMAL and PNEUMONIA films of `subset` (by `column`) with a width and height: path,
/// width, height.
fn films_by_class(
    facts: &DataFrame,
    column: &str,
    subset: &Subset,
) -> Result<(Vec<Film>, Vec<Film>)> {
    let paths = frame::strings(facts, columns::PATH)?;
    let classes = frame::strings(facts, columns::CLASS)?;
    let subsets = frame::strings(facts, column)?;
    let widths = frame::floats(facts, "width")?;
    let heights = frame::floats(facts, "height")?;
    let (mut normal, mut pneumonia): (Vec<Film>, Vec<Film>) = (Vec::new(), Vec::new());
    for i in 0..paths.len() {
        if *subset != subsets[i].as_str() || !(widths[i] > 0.0 && heights[i] > 0.0) {
            continue;
        }
        let film = (paths[i].clone(), widths[i], heights[i]);
        match classes[i].as_str() {
            "NORMAL" => normal.push(film),
            "PNEUMONIA" => pneumonia.push(film),
            _ => {}
        }
    }
    Ok((normal, pneumonia))
}

/// Pairs of one NORMAL and one PNEUMONIA film whose widths and heights are both within
/// `tolerance` (a log ratio), closest first, each film in one pair at most; ties broken by path
/// so that the same films give the same pairs. `(distance, normal index, pneumonia index)`.
fn greedy_pairs(normal: &[Film], pneumonia: &[Film], tolerance: f64) -> Vec<(f64, usize, usize)> {
    let mut candidates: Vec<(f64, usize, usize)> = Vec::new();
    for (a, n) in normal.iter().enumerate() {
        for (b, p) in pneumonia.iter().enumerate() {
            let distance = (n.1 / p.1).ln().abs().max((n.2 / p.2).ln().abs());
            if distance <= tolerance {
                candidates.push((distance, a, b));
            }
        }
    }
    candidates.sort_by(|x, y| {
        x.0.total_cmp(&y.0)
            .then_with(|| normal[x.1].0.cmp(&normal[y.1].0))
            .then_with(|| pneumonia[x.2].0.cmp(&pneumonia[y.2].0))
    });
    let (mut used_n, mut used_p) = (vec![false; normal.len()], vec![false; pneumonia.len()]);
    let mut pairs = Vec::new();
    for (distance, a, b) in candidates {
        if !used_n[a] && !used_p[b] {
            used_n[a] = true;
            used_p[b] = true;
            pairs.push((distance, a, b));
        }
    }
    pairs
}

/// Every model of `evaluation` on the subset the match was made in and on its matched part, at
/// the threshold each chose on validation: `model`, `features`, `images`, `roc_auc`,
/// `balanced accuracy`, then `matched images`, `matched roc_auc`, `matched balanced accuracy`,
/// and `roc_auc lost` (the usual minus the matched). What a model loses when the size stops
/// telling the class was the shortcut's share of its score. NaN where the matched part has no
/// pair.
pub fn on_matched(evaluation: &Evaluation, matched: &Matched) -> Result<DataFrame> {
    let results: Vec<_> = evaluation
        .results
        .iter()
        .filter(|r| r.subset == matched.subset)
        .collect();
    if results.is_empty() {
        return Err(Error::Incompatible {
            what: "the matched comparison".into(),
            reason: format!(
                "the evaluation scored no model on {}: match on a subset it scored",
                matched.subset
            ),
        });
    }
    let balanced = |m: &Metrics| (m.recall + m.specificity) / 2.0;
    let (mut model, mut features, mut images, mut auc, mut acc) =
        (vec![], vec![], vec![], vec![], vec![]);
    let (mut m_images, mut m_auc, mut m_acc, mut lost) = (vec![], vec![], vec![], vec![]);
    for r in results {
        if r.paths.len() != r.scores.len() {
            return Err(Error::Incompatible {
                what: format!("model {}", r.model),
                reason: "it has no image paths with its scores (an evaluation read from a \
                         file?): score it again"
                    .into(),
            });
        }
        let (scores, labels): (Vec<f64>, Vec<u32>) = r
            .scores
            .iter()
            .zip(&r.paths)
            .filter(|(_, p)| matched.contains(p))
            .map(|(s, _)| *s)
            .unzip();
        let m = Metrics::new(&scores, &labels, r.metrics.threshold)?;
        model.push(r.model.name());
        features.push(r.features.clone());
        images.push(r.metrics.images as u32);
        auc.push(r.metrics.roc_auc);
        acc.push(balanced(&r.metrics));
        m_images.push(scores.len() as u32);
        m_auc.push(m.roc_auc);
        m_acc.push(if scores.is_empty() {
            f64::NAN
        } else {
            balanced(&m)
        });
        lost.push(r.metrics.roc_auc - m.roc_auc);
    }
    let df = df!(
        "model" => model,
        "features" => features,
        "images" => images,
        "roc_auc" => auc,
        "balanced accuracy" => acc,
        "matched images" => m_images,
        "matched roc_auc" => m_auc,
        "matched balanced accuracy" => m_acc,
        "roc_auc lost" => lost,
    )
    .ctx("comparing the test with its matched part")?;
    Ok(frame::fresh(&df))
}
