//! Notebook 05, Features and training: exercises on the models trained on this dataset.

use super::Exercise;
use crate::decode::Features;
use crate::error::Result;
use crate::train::linear::{mllib_reg_param, MllibSolver, RidgeRegression};
use crate::train::metrics::Confusion;
use crate::train::toolbox::{self, ToolboxModel};
use crate::train::{self, Evaluation, ModelKind, Samples, TrainOptions};
use crate::{frame, subset::Subset};

/// Try it 1: the random forest's test ROC AUC with `trees` trees.
pub fn forest_auc(features: &Features, trees: usize) -> Result<Exercise<f64>> {
    let evaluation = train::evaluate(features, &TrainOptions::new().trees(trees).shortcut(false))?;
    let auc = evaluation
        .result(ModelKind::RandomForest, Subset::Test)?
        .metrics
        .roc_auc;
    Ok(Exercise::new(
        format!("05 · Try it 1: a forest of {trees} trees"),
        auc,
        "Read the `roc_auc` column of the random forest's row in the table the cell showed, or \
         take it from the evaluation: `.result(ModelKind::RandomForest, \"test\")?.metrics.roc_auc`.",
        "let fewer = train::evaluate(&features, &TrainOptions::new().trees(10))?;\n\
         q.check(|| Ok(fewer.result(ModelKind::RandomForest, \"test\")?.metrics.roc_auc))",
    )
    .within(1e-9))
}

/// Try it 2: the logistic regression's test specificity without class weights (seed 7).
pub fn unweighted_specificity(features: &Features) -> Result<Exercise<f64>> {
    let evaluation = train::evaluate(
        features,
        &TrainOptions::new()
            .class_weights(false)
            .seed(7)
            .shortcut(false),
    )?;
    let specificity = evaluation
        .result(ModelKind::LogisticRegression, Subset::Test)?
        .metrics
        .specificity;
    Ok(Exercise::new(
        "05 · Try it 2: logistic regression without class weights",
        specificity,
        "The `specificity` of the `logistic regression` row: of the NORMAL test images, the share \
         called NORMAL.",
        "let unweighted = train::evaluate(&features, &TrainOptions::new().class_weights(false).seed(7))?;\n\
         q.check(|| Ok(unweighted.result(ModelKind::LogisticRegression, \"test\")?.metrics.specificity))",
    )
    .within(1e-9))
}

/// Try it 3: k-nearest neighbours' test ROC AUC with `k` neighbours (10x10 block means).
pub fn neighbours_auc(features: &Features, k: usize) -> Result<Exercise<f64>> {
    let table = toolbox::compare(features, 10, &[ToolboxModel::NearestNeighbours { k }])?;
    let auc = frame::floats(&table, "roc_auc")?
        .first()
        .copied()
        .unwrap_or(f64::NAN);
    Ok(Exercise::new(
        format!("05 · Try it 3: {k} neighbours"),
        auc,
        "The `roc_auc` column of the table the toolbox cell showed (one row).",
        "let knn = toolbox::compare(&features, 10, &[ToolboxModel::NearestNeighbours { k: 5 }])?;\n\
         q.check(|| Ok(frame::floats(&knn, \"roc_auc\")?[0]))",
    )
    .within(1e-9))
}

/// Question 1: the model to deploy when a missed PNEUMONIA costs ten false alarms: the
/// cheapest on validation ([`Evaluation::costs`]) among those that read the X-ray (not the file
/// facts: a shortcut that is cheap on this test set fails on films taken another way).
pub fn cheapest_model(evaluation: &Evaluation) -> Result<Exercise<String>> {
    let costs = evaluation.costs(10.0, 1.0)?;
    let models = frame::strings(&costs, "model")?;
    let features = frame::strings(&costs, "features")?;
    let first = models
        .into_iter()
        .zip(features)
        .find(|(_, f)| f != train::FACTS_FEATURES)
        .map(|(m, _)| m)
        .unwrap_or_default();
    Ok(Exercise::new(
        "05 · Question 1: ten false alarms for one missed pneumonia",
        first,
        "Choose on validation, never on test: `evaluation.costs(10.0, 1.0)?` lists the models \
         cheapest on validation first; leave out the rows whose `features` are \"file facts\" \
         (`.filter(col(\"features\").neq(lit(\"file facts\")))`) and answer with the first \
         `model` left.",
        "let costs = evaluation.costs(10.0, 1.0)?;\n\
         let readers = costs.query().filter(col(\"features\").neq(lit(\"file facts\"))).collect()?;\n\
         q.check(|| Ok(frame::strings(&readers, \"model\")?[0].clone()))",
    ))
}

/// Question 2: MLlib's `regParam` for the penalty validation chose (`solver="auto"`, which is
/// L-BFGS at 22,500 features).
pub fn reg_param_for_chosen_penalty(features: &Features) -> Result<Exercise<f64>> {
    let train_x = Samples::from_features(features, Subset::Train)?;
    let validation_x = Samples::from_features(features, Subset::Validation)?;
    let (ridge, _) = RidgeRegression::fit_path(
        &train_x,
        &validation_x,
        &RidgeRegression::default_penalties(),
    )?;
    let expected = mllib_reg_param(ridge.alpha, train_x.y(), MllibSolver::auto(train_x.cols()));
    Ok(Exercise::new(
        "05 · Question 2: the chosen penalty in MLlib's units",
        expected,
        "regParam = α·σ_y / n: the penalty times the training labels' standard deviation, over \
         the training images. `linear::mllib_reg_param(ridge.alpha, train_x.y(), \
         linear::MllibSolver::auto(train_x.cols()))` computes it, as the score table's column does.",
        "q.check(|| Ok(linear::mllib_reg_param(ridge.alpha, train_x.y(), linear::MllibSolver::auto(train_x.cols()))))",
    )
    .within(1e-9))
}

/// Your code: the logistic regression's confusion matrix on test, from its scores.
pub fn confusion_by_hand(evaluation: &Evaluation) -> Result<Exercise<Confusion>> {
    let result = evaluation.result(ModelKind::LogisticRegression, Subset::Test)?;
    Ok(Exercise::new(
        "05 · Your code: a confusion matrix from scores",
        result.metrics.confusion,
        "For each `(score, label)`: predicted PNEUMONIA when `score >= threshold`; label 1 is \
         PNEUMONIA. Four counters (`tn`, `fp`, `fn_`, `tp`), one `if` per case, then \
         `Confusion { tn, fp, fn_, tp }`.",
        "fn confusion(scores: &[(f64, u32)], threshold: f64) -> Confusion {\n    \
         let (mut tn, mut fp, mut fn_, mut tp) = (0, 0, 0, 0);\n    \
         for &(score, label) in scores {\n        let called = score >= threshold;\n        \
         if label == 1 && called { tp += 1 }\n        if label == 1 && !called { fn_ += 1 }\n        \
         if label == 0 && called { fp += 1 }\n        if label == 0 && !called { tn += 1 }\n    }\n    \
         Confusion { tn, fp, fn_, tp }\n}",
    ))
}
