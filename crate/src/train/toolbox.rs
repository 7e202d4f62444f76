//! The student's toolbox: smartcore's classifiers on the same subsets, scored with the same
//! metrics and in the same table as this crate's models.
//!
//! smartcore is the general machine-learning library of the Rust ecosystem (the scikit-learn
//! of Rust): many models behind one `fit` / `predict` pattern, on its own matrix type. Its
//! linear models solve the normal equations, which takes hours at 22,500 pixels (the report's
//! features), so [`evaluate`](super::evaluate) fits those with faer and argmin; on pooled pixels
//! (15x15 block means: 225 features) smartcore's other models are quick. This module converts
//! [`Samples`] to smartcore's types ([`matrix`], [`labels`]) and fits a few of its models
//! ([`compare`]); a notebook can take it from there with any other smartcore model.
//!
//! ```
//! use xray_lab::train::{Samples, toolbox};
//! use smartcore::neighbors::knn_classifier::KNNClassifier;
//! let x = Samples::new(vec![0.0, 0.1, 0.9, 1.0], 1, vec![0, 0, 1, 1])?;
//! let knn = KNNClassifier::fit(&toolbox::matrix(&x)?, &toolbox::labels(&x), Default::default())
//!     .map_err(|e| toolbox::failed("k-nearest neighbours", e))?;
//! assert_eq!(knn.predict(&toolbox::matrix(&x)?).unwrap(), vec![0, 0, 1, 1]);
//! # Ok::<(), xray_lab::Error>(())
//! ```

use std::fmt;
use std::time::Instant;

use polars::prelude::*;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::naive_bayes::gaussian::GaussianNB;
use smartcore::neighbors::knn_classifier::{KNNClassifier, KNNClassifierParameters};
use smartcore::svm::svc::{SVCParameters, SVC};
use smartcore::svm::Kernels;

use super::metrics::{self, Metrics};
use super::samples::Samples;
use crate::decode::Features;
use crate::subset::{Splits, Subset};
use crate::{Error, Result};

/// One of the smartcore models [`compare`] fits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ToolboxModel {
    /// k-nearest neighbours (Euclidean): the share of PNEUMONIA among the `k` nearest training
    /// images is the score.
    NearestNeighbours {
        /// How many neighbours vote.
        k: usize,
    },
    /// Gaussian naive Bayes: each feature normal within a class, features independent. It
    /// predicts a class, not a probability, so its ROC curve has a single point.
    GaussianNaiveBayes,
    /// A support vector machine with a linear kernel; its decision value is the score.
    LinearSvm {
        /// The penalty on margin violations (larger: fewer violations, a narrower margin).
        c: f64,
    },
}

impl ToolboxModel {
    /// The three models, at the settings a first try would use.
    pub const DEFAULTS: [ToolboxModel; 3] = [
        ToolboxModel::NearestNeighbours { k: 15 },
        ToolboxModel::GaussianNaiveBayes,
        ToolboxModel::LinearSvm { c: 1.0 },
    ];
}

impl fmt::Display for ToolboxModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolboxModel::NearestNeighbours { k } => write!(f, "smartcore: {k}-nearest neighbours"),
            ToolboxModel::GaussianNaiveBayes => write!(f, "smartcore: Gaussian naive Bayes"),
            ToolboxModel::LinearSvm { c } => write!(f, "smartcore: linear SVM (C = {c})"),
        }
    }
}

/// The samples as smartcore's dense matrix (one row per image, f64).
pub fn matrix(x: &Samples) -> Result<DenseMatrix<f64>> {
    // Column-major: the layout smartcore's own constructors (`from_2d_vec`) make.
    let values: Vec<f64> = (0..x.cols())
        .flat_map(|j| (0..x.rows()).map(move |i| x.row(i)[j] as f64))
        .collect();
    DenseMatrix::new(x.rows(), x.cols(), values, true).map_err(|e| failed("the matrix", e))
}

/// The labels as smartcore's classifiers take them (0 NORMAL, 1 PNEUMONIA).
pub fn labels(x: &Samples) -> Vec<u32> {
    x.y().to_vec()
}

/// A smartcore error as this crate's [`Error::Fit`], naming the model.
pub fn failed(model: &str, error: smartcore::error::Failed) -> Error {
    Error::Fit {
        model: model.to_string(),
        reason: error.to_string(),
    }
}

/// Fits each model on the train subset's pixels pooled over `pool` x `pool` blocks (10: 150x150
/// becomes 15x15; the SVM may read coarser blocks on a tiny dataset, see the `features`
/// column), chooses its threshold on validation as [`evaluate`](super::evaluate) does,
/// and scores test. Returns the columns of [`Evaluation::table`](super::Evaluation::table)
/// (`model`, `features`, `accuracy`, `precision`, `recall`, `specificity`, `f1`, `roc_auc`,
/// `rmse`, `fit_seconds`), so both tables stack with `concat`. `fit_seconds` includes
/// scoring validation and test (k-nearest neighbours does its work there).
pub fn compare(features: &Features, pool: usize, models: &[ToolboxModel]) -> Result<DataFrame> {
    super::samples::require_pixels(features, "toolbox::compare")?;
    let pixels = Splits::new(Subset::Train, Subset::Validation, Subset::Test)
        .try_map(|s| Samples::from_features(features, s))?;
    let side = features.options().side() as usize;
    let mut rows: Vec<(String, String, Metrics, f64)> = Vec::new();
    for &model in models {
        let factor = block_side(model, side, pool, pixels.train.rows());
        let Splits {
            train,
            validation,
            test,
        } = pixels.as_ref().try_map(|x| x.pooled(factor))?;
        let t = Instant::now();
        let [on_validation, on_test] = fit_and_score(model, &train, [&validation, &test])?;
        let seconds = t.elapsed().as_secs_f64();
        let threshold = metrics::best_threshold(&on_validation, validation.y())?;
        let blocks = side / factor;
        rows.push((
            model.to_string(),
            format!("{blocks}x{blocks} block means"),
            Metrics::new(&on_test, test.y(), threshold)?,
            seconds,
        ));
    }
    super::studies::comparison_table(rows.iter().map(|(model, features, metrics, seconds)| {
        (model.as_str(), features.as_str(), metrics, *seconds)
    }))
}

/// The block side a model reads: `pool`, except for the SVM on fewer training images than
/// block means. smartcore 0.7's SVM keeps only the first `images` values of each training row
/// (`take(n)` with `n` the row count, in `Optimizer::optimize`), which truncates its support
/// vectors and panics when they meet a full row; coarser blocks (at most one feature per
/// image) keep every row whole. The `features` column of the table says which blocks it read.
fn block_side(model: ToolboxModel, side: usize, pool: usize, images: usize) -> usize {
    let mut factor = pool.clamp(1, side.max(1));
    if matches!(model, ToolboxModel::LinearSvm { .. }) {
        while factor < side && (side / factor).pow(2) > images {
            factor += 1;
        }
    }
    factor
}

/// Fits `model` on `train` and returns its scores on each of `scored` (higher: PNEUMONIA).
fn fit_and_score(
    model: ToolboxModel,
    train: &Samples,
    scored: [&Samples; 2],
) -> Result<[Vec<f64>; 2]> {
    let name = model.to_string();
    let x = matrix(train)?;
    let y = labels(train);
    let inputs = [matrix(scored[0])?, matrix(scored[1])?];
    match model {
        ToolboxModel::NearestNeighbours { k } => {
            // No more neighbours than training images (a tiny dataset has few).
            let k = k.clamp(1, train.rows().max(1));
            let knn = KNNClassifier::fit(&x, &y, KNNClassifierParameters::default().with_k(k))
                .map_err(|e| failed(&name, e))?;
            let mut out = [Vec::new(), Vec::new()];
            for (o, input) in out.iter_mut().zip(&inputs) {
                // Columns follow the sorted labels: the last one is PNEUMONIA's share.
                *o = knn
                    .predict_proba(input)
                    .map_err(|e| failed(&name, e))?
                    .into_iter()
                    .map(|p| p.last().copied().unwrap_or(0.0))
                    .collect();
            }
            Ok(out)
        }
        ToolboxModel::GaussianNaiveBayes => {
            let nb = GaussianNB::fit(&x, &y, Default::default()).map_err(|e| failed(&name, e))?;
            let mut out = [Vec::new(), Vec::new()];
            for (o, input) in out.iter_mut().zip(&inputs) {
                *o = nb
                    .predict(input)
                    .map_err(|e| failed(&name, e))?
                    .into_iter()
                    .map(f64::from)
                    .collect();
            }
            Ok(out)
        }
        ToolboxModel::LinearSvm { c } => {
            // smartcore's SVC takes the classes as -1 and 1.
            let signed: Vec<i32> = y.iter().map(|&v| if v == 1 { 1 } else { -1 }).collect();
            let parameters = SVCParameters::default()
                .with_c(c)
                .with_kernel(Kernels::linear())
                .with_seed(Some(42));
            let svm = SVC::fit(&x, &signed, &parameters).map_err(|e| failed(&name, e))?;
            let mut out = [Vec::new(), Vec::new()];
            for (o, input) in out.iter_mut().zip(&inputs) {
                *o = svm.decision_function(input).map_err(|e| failed(&name, e))?;
            }
            Ok(out)
        }
    }
}
