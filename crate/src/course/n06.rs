//! Notebook 06, Dashboards: exercises on the figures, the page and the split they show.

use polars::prelude::*;

use super::{choice, Exercise};
use crate::columns;
use crate::error::Result;
use crate::train::Evaluation;
use crate::{frame, split};

/// Your code: the NORMAL share of one subset of a split, as [`split::summary`] gives it (its
/// `share_of_subset`; 0 when the subset has no NORMAL image).
pub fn normal_share(images: &DataFrame, subset: &str) -> Result<Exercise<f64>> {
    let summary = split::summary(images)?;
    let subsets = frame::strings(&summary, columns::SUBSET)?;
    let classes = frame::strings(&summary, columns::CLASS)?;
    let shares = frame::floats(&summary, "share_of_subset")?;
    let share = (0..shares.len())
        .find(|&i| subsets[i] == subset && classes[i] == "NORMAL")
        .map_or(0.0, |i| shares[i]);
    Ok(Exercise::new(
        format!("06 · Your code: the NORMAL share of {subset}"),
        share,
        "Keep the rows of that subset (`col(\"subset\").eq(lit(subset))`), count them, count \
         the NORMAL ones among them, divide as floats.",
        "fn normal_share(images: &DataFrame, subset: &str) -> Result<f64> {\n    \
         let rows = images.query().filter(col(\"subset\").eq(lit(subset))).collect()?;\n    \
         let normal = rows.query().filter(col(\"class\").eq(lit(\"NORMAL\"))).collect()?;\n    \
         Ok(normal.height() as f64 / rows.height() as f64)\n}",
    )
    .within(1e-9))
}

/// Try it 2: the best test ROC AUC in the evaluation's table.
pub fn best_test_auc(evaluation: &Evaluation) -> Result<Exercise<f64>> {
    let table = evaluation.table("test")?;
    let best = frame::floats(&table, "roc_auc")?
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    Ok(Exercise::new(
        "06 · Try it 2: the best model for a reader in a hurry",
        best,
        "The largest value of the `roc_auc` column of `evaluation.table(\"test\")?` (the table \
         on the short page).",
        "let aucs = frame::floats(&evaluation.table(\"test\")?, \"roc_auc\")?;\n\
         let mut best = 0.0;\nfor auc in &aucs { if *auc > best { best = *auc; } }\nq.check(|| Ok(best))",
    )
    .within(1e-9))
}

/// Question 1: the panel that answers a clinician's first question.
pub fn clinicians_panel() -> Exercise<char> {
    choice(
        "06 · Question 1: for a clinician",
        &[
            ('a', "image sizes per class"),
            (
                'b',
                "confusion matrices: how many pneumonias each model misses, how many healthy \
                   children it flags",
            ),
            ('c', "intensity statistics per subset"),
        ],
        'b',
        "A clinician asks how often the model is wrong, and which way.",
        "the confusion matrices count both kinds of error",
    )
}

/// Question 2: how the page tells a reader that its images are synthetic.
pub fn where_the_page_says_so() -> Exercise<char> {
    choice(
        "06 · Question 2: phantoms or patients?",
        &[
            ('a', "it does not: a reader has to know"),
            (
                'b',
                "its first paragraph names where the images come from (synthetic, the real \
                   sample, or your folder), written by report::page from the dataset's origin",
            ),
            ('c', "every figure's title says so"),
        ],
        'b',
        "Open the page, or print the start of `report::page(...)` (the worked answer does).",
        "report::page writes the dataset's origin in its first paragraph",
    )
}

/// Try it 1: the panel that shows how the classes are spread within each subset.
pub fn panel_for_class_balance() -> Exercise<char> {
    choice(
        "06 · Try it 1: a panel for the class balance",
        &[
            ('a', "roc_curves"),
            ('b', "classes_stacked"),
            ('c', "image_sizes"),
        ],
        'b',
        "The class balance is a count per subset and class; which figure's bars are split by class?",
        "classes_stacked: each subset's bar split into NORMAL and PNEUMONIA, with their shares",
    )
}
