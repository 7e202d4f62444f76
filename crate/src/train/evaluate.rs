//! Fitting every model and scoring it on every subset.

use std::time::Instant;

use super::evaluation::{Evaluation, Scorer};
use super::kind::ModelKind;
use super::linear::{self, LogisticRegression, RidgeRegression};
use super::model::{Estimator, Input};
use super::options::{CheckedTrainOptions, TrainOptions};
use super::samples::{pixel_samples, require_pixels, subset_rows, Samples};
use super::tree::{DecisionTree, RandomForest};
use crate::decode::Features;
use crate::subset::{Splits, Subset};
use crate::Result;

/// Fit every model on the train subset of `features`, choose penalties and thresholds on
/// validation, and score train, validation and test.
///
/// Fails with a clear error when a subset is missing or holds one class only.
pub fn evaluate(features: &Features, options: &TrainOptions) -> Result<Evaluation> {
    require_pixels(features, "train::evaluate")?;
    let options = &options.check()?;
    let start = Instant::now();
    let names = options.subsets().as_ref();
    let pixels = pixel_samples(features, names)?;
    let mut scorer = Scorer {
        names,
        decode: features.options().clone(),
        models: Vec::new(),
        results: Vec::new(),
    };
    fit_majority(&pixels, &mut scorer)?;
    let ridge_path = fit_linear(&pixels, options, &mut scorer)?;
    fit_trees(pixels, options, &mut scorer)?;
    if options.shortcut() {
        fit_shortcuts(features, names, options, &mut scorer)?;
    }
    let sizes = names.map(|name| {
        subset_rows(features.images(), name)
            .map(|r| r.len())
            .unwrap_or(0)
    });
    Ok(Evaluation {
        models: scorer.models,
        results: scorer.results,
        ridge_path,
        sizes,
        subsets: names.map(Subset::clone),
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The majority-class baseline: the training share of PNEUMONIA as every image's score. Its
/// threshold (chosen on validation like every model's) calls every image PNEUMONIA, so it
/// scores the majority's share as accuracy, recall 1, specificity 0 and ROC AUC 0.5: the row
/// that shows what accuracy alone is worth on imbalanced classes.
pub(super) fn fit_majority(pixels: &Splits<Samples>, scorer: &mut Scorer) -> Result<()> {
    let t = Instant::now();
    let y = pixels.train.y();
    let share = y.iter().filter(|&&v| v == 1).count() as f64 / y.len().max(1) as f64;
    scorer.add(
        ModelKind::MajorityClass,
        Estimator::Majority { share },
        Input::Nothing,
        pixels,
        t.elapsed().as_secs_f64(),
    )
}

/// The report's linear regression (its penalty chosen on validation) and logistic regression,
/// both on the pixels. Returns the penalty search.
pub(super) fn fit_linear(
    pixels: &Splits<Samples>,
    options: &CheckedTrainOptions,
    scorer: &mut Scorer,
) -> Result<Vec<(f64, f64)>> {
    // Both linear models start from the same centred pixels and Gram matrix (about 0.5 s and
    // 250 MB at full scale), so it is built once; its time counts in the first model's fit.
    let t = Instant::now();
    let centred = linear::Centred::new(&pixels.train)?;
    let (ridge, path) =
        RidgeRegression::fit_path_centred(&centred, &pixels.validation, options.ridge_penalties())?;
    scorer.add(
        ModelKind::LinearRegression,
        Estimator::Ridge(ridge),
        Input::Pixels,
        pixels,
        t.elapsed().as_secs_f64(),
    )?;
    let t = Instant::now();
    let logistic = LogisticRegression::fit_with(&pixels.train, options.logistic(), Some(&centred))?;
    drop(centred);
    scorer.add(
        ModelKind::LogisticRegression,
        Estimator::Logistic(logistic),
        Input::Pixels,
        pixels,
        t.elapsed().as_secs_f64(),
    )?;
    Ok(path)
}

/// The decision tree (principal components of coarse block means) and the random forest
/// (block means). Takes the pixels to free them once the block means are made.
pub(super) fn fit_trees(
    pixels: Splits<Samples>,
    options: &CheckedTrainOptions,
    scorer: &mut Scorer,
) -> Result<()> {
    // Block means come from the pixel rows already gathered, not from a second copy of them.
    let pooled = pixels.as_ref().try_map(|x| x.pooled(options.pool()))?;
    let coarse = pixels.as_ref().try_map(|x| x.pooled(options.tree_pool()))?;
    drop(pixels);

    // The single tree reads principal components of coarser blocks: one tree cannot average
    // out pixel noise as a forest does, and on the full synthetic dataset these lift its test
    // ROC AUC from 0.75 (15x15 block means) to 0.80.
    let t = Instant::now();
    let pca = linear::Pca::fit(&coarse.train, options.tree_components())?;
    let projected = coarse.as_ref().try_map(|x| pca.transform(x))?;
    let tree = DecisionTree::fit_checked(&projected.train, options.tree())?;
    scorer.add(
        ModelKind::DecisionTree,
        Estimator::Tree(tree),
        Input::Components {
            factor: options.tree_pool(),
            pca,
        },
        &projected,
        t.elapsed().as_secs_f64(),
    )?;
    let t = Instant::now();
    let forest = RandomForest::fit_checked(&pooled.train, options.forest())?;
    scorer.add(
        ModelKind::RandomForest,
        Estimator::Forest(forest),
        Input::Pooled {
            factor: options.pool(),
        },
        &pooled,
        t.elapsed().as_secs_f64(),
    )
}

/// The shortcut checks: logistic regression and a forest on file facts, not pixels.
pub(super) fn fit_shortcuts(
    features: &Features,
    names: Splits<&Subset>,
    options: &CheckedTrainOptions,
    scorer: &mut Scorer,
) -> Result<()> {
    let facts = Samples::facts_of_splits(features, names)?;
    let t = Instant::now();
    let logistic = LogisticRegression::fit(
        &facts.train,
        &(**options.logistic())
            .clone()
            .with_standardize(true)
            .with_penalty(1e-3),
    )?;
    scorer.add(
        ModelKind::ShortcutLogistic,
        Estimator::Logistic(logistic),
        Input::Facts,
        &facts,
        t.elapsed().as_secs_f64(),
    )?;
    let t = Instant::now();
    let forest = RandomForest::fit_checked(&facts.train, options.forest())?;
    scorer.add(
        ModelKind::ShortcutForest,
        Estimator::Forest(forest),
        Input::Facts,
        &facts,
        t.elapsed().as_secs_f64(),
    )
}
