//! One-number classifiers: the best cut through a column of the facts.

use polars::prelude::*;

use crate::columns;
use crate::error::{Error, PolarsContext, Result};
use crate::frame;

/// A one-number classifier: NORMAL on one side of a cut through a column of the facts (the
/// width, say), PNEUMONIA on the other. What a model that sees nothing but that number can do.
#[derive(Debug, Clone, PartialEq)]
pub struct Cut {
    /// The column cut through.
    pub column: String,
    /// The cut: values at or above it are on the upper side.
    pub at: f64,
    /// Whether NORMAL is the upper side.
    pub normal_above: bool,
    /// Its accuracy on the facts it was chosen on.
    pub accuracy: f64,
}

/// Values of `column` and whether each image is NORMAL, for rows whose value is known.
fn values_and_classes(facts: &DataFrame, column: &str) -> Result<(Vec<f64>, Vec<bool>)> {
    frame::require(facts, &[columns::CLASS, column], "a cut through one column")?;
    let values = frame::floats(facts, column)?;
    let classes = frame::strings(facts, columns::CLASS)?;
    Ok(values
        .into_iter()
        .zip(classes)
        .filter(|(v, _)| v.is_finite())
        .map(|(v, c)| (v, c == "NORMAL"))
        .unzip())
}

/// The share of `(value, is NORMAL)` pairs a cut classifies right: NORMAL predicted when
/// `(value >= at) == normal_above`. NaN when there are none.
fn cut_accuracy(values: &[f64], normal: &[bool], at: f64, normal_above: bool) -> f64 {
    let right = values
        .iter()
        .zip(normal)
        .filter(|(v, n)| ((**v >= at) == normal_above) == **n)
        .count();
    right as f64 / values.len() as f64
}

/// The cut through `column` that classifies the most rows of `facts` right, trying every value
/// as the cut and both sides for NORMAL (the first best, from the smallest cut). Choose it on
/// the training subset and score it elsewhere with [`Cut::accuracy_on`].
///
/// ```
/// use xray_lab::prelude::*;
/// let facts = df!("class" => ["NORMAL", "NORMAL", "PNEUMONIA", "PNEUMONIA"],
///                 "width" => [1800u32, 1600, 1200, 900])?;
/// let cut = facts::best_cut(&facts, "width")?;
/// assert_eq!((cut.at, cut.normal_above, cut.accuracy), (1600.0, true, 1.0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn best_cut(facts: &DataFrame, column: &str) -> Result<Cut> {
    let (values, normal) = values_and_classes(facts, column)?;
    let mut cuts = values.clone();
    cuts.sort_by(f64::total_cmp);
    cuts.dedup();
    let mut best: Option<Cut> = None;
    for &at in &cuts {
        for normal_above in [true, false] {
            let accuracy = cut_accuracy(&values, &normal, at, normal_above);
            if best.as_ref().is_none_or(|b| accuracy > b.accuracy) {
                best = Some(Cut {
                    column: column.to_string(),
                    at,
                    normal_above,
                    accuracy,
                });
            }
        }
    }
    best.ok_or_else(|| Error::Empty {
        what: format!("a cut through {column}"),
        item: "row with a value (did every header fail to read?)",
    })
}

impl Cut {
    /// Its accuracy on other facts (the test subset's, say); NaN when they have no row.
    pub fn accuracy_on(&self, facts: &DataFrame) -> Result<f64> {
        let (values, normal) = values_and_classes(facts, &self.column)?;
        Ok(cut_accuracy(&values, &normal, self.at, self.normal_above))
    }

    /// The cut as a one-row table.
    pub fn table(&self) -> Result<DataFrame> {
        df!(
            "column" => [self.column.as_str()],
            "cut" => [self.at],
            "NORMAL when" => [if self.normal_above { "at or above" } else { "below" }],
            "accuracy where chosen" => [self.accuracy],
        )
        .ctx("describing a cut")
    }

    /// evcxr's display hook: the one-row table.
    pub fn evcxr_display(&self) {
        crate::frame::show(self.table())
    }
}
