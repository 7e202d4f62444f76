//! Studies beside the evaluation: class weights compared, the comparison table, a 2-D projection.

use polars::prelude::*;

use super::linear::{self, LogisticRegression};
use super::metrics::{self, Metrics};
use super::options::TrainOptions;
use super::samples::{pixel_samples, require_pixels, Samples};
use crate::columns;
use crate::decode::Features;
use crate::error::PolarsContext;
use crate::subset::Subset;
use crate::{frame, Error, Result};

/// Logistic regression on the pixels fitted twice, with class weights (the default:
/// `class_weight="balanced"`) and without, each judged on test at the plain 0.5 threshold and at
/// its threshold chosen on validation. One row each: `class weights`, `threshold rule`,
/// `threshold`, `accuracy`, `recall`, `specificity`, `roc_auc`. Shows what the weights do on
/// imbalanced classes: without them the 0.5 threshold leans to the majority class; a threshold
/// chosen on validation corrects most of that; ROC AUC, which ignores the threshold, barely moves.
pub fn class_weights_compared(features: &Features, options: &TrainOptions) -> Result<DataFrame> {
    require_pixels(features, "train::class_weights_compared")?;
    let options = options.check()?;
    let names = options.subsets().as_ref();
    let pixels = pixel_samples(features, names)?;
    let mut rows: Vec<(&str, &str, f64, Metrics)> = Vec::new();
    for (weights, balanced) in [("balanced", true), ("none", false)] {
        let parameters = (**options.logistic()).clone().with_balanced(balanced);
        let model = LogisticRegression::fit(&pixels.train, &parameters)?;
        let validation = model.predict_proba(&pixels.validation)?;
        let test = model.predict_proba(&pixels.test)?;
        let chosen = metrics::best_threshold(&validation, pixels.validation.y())?;
        for (rule, threshold) in [("0.5", 0.5), ("chosen on validation", chosen)] {
            rows.push((
                weights,
                rule,
                threshold,
                Metrics::new(&test, pixels.test.y(), threshold)?,
            ));
        }
    }
    let f = |g: &dyn Fn(&Metrics) -> f64| rows.iter().map(|r| g(&r.3)).collect::<Vec<f64>>();
    let df = df!(
        "class weights" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        "threshold rule" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        "threshold" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        "accuracy" => f(&|m| m.accuracy),
        "recall" => f(&|m| m.recall),
        "specificity" => f(&|m| m.specificity),
        "roc_auc" => f(&|m| m.roc_auc),
    )
    .ctx("building the class-weight table")?;
    Ok(frame::fresh(&df))
}

/// The table [`Evaluation::table`] and [`toolbox::compare`] share: one row per `(model,
/// features, metrics, fit seconds)`, the columns a reader compares models by.
pub(crate) fn comparison_table<'a>(
    rows: impl Iterator<Item = (&'a str, &'a str, &'a Metrics, f64)>,
) -> Result<DataFrame> {
    let rows: Vec<_> = rows.collect();
    let f = |g: &dyn Fn(&Metrics) -> f64| rows.iter().map(|r| g(r.2)).collect::<Vec<f64>>();
    let df = df!(
        "model" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        "features" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        "accuracy" => f(&|m| m.accuracy),
        "precision" => f(&|m| m.precision),
        "recall" => f(&|m| m.recall),
        "specificity" => f(&|m| m.specificity),
        "f1" => f(&|m| m.f1),
        "roc_auc" => f(&|m| m.roc_auc),
        "rmse" => f(&|m| m.rmse),
        "fit_seconds" => rows.iter().map(|r| r.3).collect::<Vec<f64>>(),
    )
    .ctx("building the metrics table")?;
    Ok(frame::fresh(&df))
}

/// The most values per image [`projection`] takes: 64x64 pixels.
pub const MAX_PROJECTED: usize = 4096;

/// A 2-D view of high-dimensional rows (pixels or embeddings): the first two principal
/// components, fitted on the images of `fit_on` and computed for every image of `features`.
/// Returns `path`, `class`, the subset column and `pc1`, `pc2`, for
/// [`crate::plot::scatter_by_class`]. Images of one class that sit together here are what a
/// linear model finds easy to separate.
pub fn projection(features: &Features, fit_on: impl Into<Subset>) -> Result<DataFrame> {
    // The PCA works on the p x p covariance: fine for embeddings (1,280) and small pixel
    // images, minutes and gigabytes for 150x150 pixels (22,500).
    if features.cols() > MAX_PROJECTED {
        return Err(Error::Incompatible {
            what: "a projection".into(),
            reason: format!(
                "{} values per image would need a {0} x {0} covariance matrix: project \
                 embeddings, or pixels decoded at 64x64 or less (DecodeOptions::new().size(32))",
                features.cols()
            ),
        });
    }
    let pca = linear::Pca::fit(&Samples::from_features(features, fit_on)?, 2)?;
    let (mut pc1, mut pc2) = (Vec::new(), Vec::new());
    for i in 0..features.rows() {
        let scores = pca.project(features.row(i));
        pc1.push(scores[0] as f64);
        pc2.push(scores.get(1).copied().unwrap_or(0.0) as f64);
    }
    let images = features.images();
    let subset = crate::subset::column_of(images, "the projection").unwrap_or(columns::SPLIT);
    let mut table = images
        .select([columns::PATH, columns::CLASS, subset])
        .ctx("the projection's table")?;
    table
        .with_column(Column::new("pc1".into(), pc1))
        .ctx("the projection's table")?;
    table
        .with_column(Column::new("pc2".into(), pc2))
        .ctx("the projection's table")?;
    Ok(frame::fresh(&table))
}
