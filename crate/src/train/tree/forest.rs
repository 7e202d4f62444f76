//! A random forest: trees on bootstrap samples, averaged.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::cart::{check_cols, fit_one, DecisionTree};
use super::grow::{class_weights, Binned};
use super::params::ForestParameters;
use crate::train::checked::Checked;
use crate::train::samples::Samples;
use crate::{Error, Result};

/// A random forest: trees on bootstrap samples, `√p` candidate features per split, averaged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RandomForest {
    trees: Vec<DecisionTree>,
    cols: usize,
}

impl RandomForest {
    /// Grow the forest on `x`, trees in parallel, once `params` pass their check; the same
    /// seed gives the same forest.
    pub fn fit(x: &Samples, params: &ForestParameters) -> Result<RandomForest> {
        Self::fit_checked(x, &params.check()?)
    }

    /// Grow the forest on `x` with settings already checked.
    pub fn fit_checked(x: &Samples, params: &Checked<ForestParameters>) -> Result<RandomForest> {
        if x.rows() == 0 || x.cols() == 0 {
            return Err(Error::Empty {
                what: "a forest".into(),
                item: "image with features",
            });
        }
        let w = class_weights(&x.y, params.tree.balanced)?;
        let binned = Binned::new(x);
        let n = x.rows();
        let mut tree_params = params.tree.clone();
        tree_params.max_features = Some(
            params
                .tree
                .max_features
                .unwrap_or_else(|| (x.cols() as f64).sqrt().round() as usize)
                .max(1),
        );
        let trees = (0..params.trees)
            .into_par_iter()
            .map(|t| {
                let seed = params
                    .tree
                    .seed
                    .wrapping_mul(1_000_003)
                    .wrapping_add(t as u64);
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let mut weight = vec![0.0f64; n];
                for _ in 0..n {
                    let i = rng.random_range(0..n);
                    weight[i] += w[x.y[i] as usize];
                }
                let mut p = tree_params.clone();
                p.seed = seed;
                fit_one(&binned, &x.y, weight, &p, x.cols())
            })
            .collect();
        Ok(RandomForest {
            trees,
            cols: x.cols(),
        })
    }

    /// `P(PNEUMONIA)` for every row: the mean of the trees' leaf shares.
    pub fn predict_proba(&self, x: &Samples) -> Result<Vec<f64>> {
        check_cols(self.cols, x)?;
        Ok((0..x.rows())
            .into_par_iter()
            .map(|i| {
                let row = x.row(i);
                self.trees.iter().map(|t| t.score(row)).sum::<f64>() / self.trees.len() as f64
            })
            .collect())
    }

    /// How many trees.
    pub fn len(&self) -> usize {
        self.trees.len()
    }

    /// Whether the forest has no tree (never, once fitted).
    pub fn is_empty(&self) -> bool {
        self.trees.is_empty()
    }
}
