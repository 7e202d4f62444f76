//! A fitted linear model: weights and an intercept.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::train::samples::Samples;
use crate::{Error, Result};

/// A fitted linear score: `x · weights + intercept`, in the features' own units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearModel {
    /// One weight per feature (for 150x150 pixels: 22,500, drawable as an image).
    pub weights: Vec<f64>,
    /// The constant term.
    pub intercept: f64,
}

impl LinearModel {
    /// The linear score of one row.
    pub fn decision(&self, row: &[f32]) -> f64 {
        self.intercept
            + row
                .iter()
                .zip(&self.weights)
                .map(|(&x, &w)| x as f64 * w)
                .sum::<f64>()
    }

    /// The linear score of every row of `x`.
    pub fn decisions(&self, x: &Samples) -> Result<Vec<f64>> {
        if x.cols() != self.weights.len() {
            return Err(Error::ShapeMismatch {
                what: "a linear model".into(),
                expected: format!("{} features per row, one per weight", self.weights.len()),
                found: format!("the samples have {}", x.cols()),
            });
        }
        Ok((0..x.rows())
            .into_par_iter()
            .map(|i| self.decision(x.row(i)))
            .collect())
    }
}
