//! A fitted decision tree and how it scores a row.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::grow::{class_weights, Binned, Grower, Node, LEAF};
use super::params::TreeParameters;
use crate::train::checked::Checked;
use crate::train::samples::Samples;
use crate::{Error, Result};

/// A fitted classification tree.
///
/// ```
/// use xray_lab::train::{Samples, tree::{DecisionTree, TreeParameters}};
/// let x = Samples::new(vec![0.1, 0.2, 0.3, 0.7, 0.8, 0.9], 1, vec![0, 0, 0, 1, 1, 1])?;
/// let tree = DecisionTree::fit(&x, &TreeParameters::default().with_min_samples_leaf(1))?;
/// assert_eq!(tree.predict_proba(&x)?, vec![0.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
/// # Ok::<(), xray_lab::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionTree {
    nodes: Vec<Node>,
    cols: usize,
}

pub(super) fn fit_one(
    binned: &Binned,
    y: &[u32],
    weight: Vec<f64>,
    params: &TreeParameters,
    cols: usize,
) -> DecisionTree {
    let rows: Vec<u32> = (0..y.len() as u32)
        .filter(|&i| weight[i as usize] > 0.0)
        .collect();
    let mut grower = Grower {
        binned,
        y,
        weight,
        params,
        rng: ChaCha8Rng::seed_from_u64(params.seed),
        nodes: Vec::new(),
    };
    grower.grow(rows, 0);
    DecisionTree {
        nodes: grower.nodes,
        cols,
    }
}

impl DecisionTree {
    /// Grow a tree on `x` (labels 0/1), once `params` pass their check.
    pub fn fit(x: &Samples, params: &TreeParameters) -> Result<DecisionTree> {
        Self::fit_checked(x, &params.check()?)
    }

    /// Grow a tree on `x` with settings already checked.
    pub fn fit_checked(x: &Samples, params: &Checked<TreeParameters>) -> Result<DecisionTree> {
        if x.rows() == 0 || x.cols() == 0 {
            return Err(Error::Empty {
                what: "a tree".into(),
                item: "image with features",
            });
        }
        let w = class_weights(&x.y, params.balanced)?;
        let binned = Binned::new(x);
        let weight = x.y.iter().map(|&y| w[y as usize]).collect();
        Ok(fit_one(&binned, &x.y, weight, params, x.cols()))
    }

    /// The share of PNEUMONIA in the leaf one row falls in.
    pub fn score(&self, row: &[f32]) -> f64 {
        let mut node = &self.nodes[0];
        while node.feature != LEAF {
            let next = if row[node.feature as usize] <= node.threshold {
                node.left
            } else {
                node.right
            };
            node = &self.nodes[next as usize];
        }
        node.value as f64
    }

    /// `P(PNEUMONIA)` for every row: the weighted share of PNEUMONIA in its leaf.
    pub fn predict_proba(&self, x: &Samples) -> Result<Vec<f64>> {
        check_cols(self.cols, x)?;
        Ok((0..x.rows()).map(|i| self.score(x.row(i))).collect())
    }

    /// How many nodes (splits and leaves).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The deepest leaf's depth.
    pub fn depth(&self) -> usize {
        fn depth(nodes: &[Node], i: usize) -> usize {
            let n = &nodes[i];
            if n.feature == LEAF {
                0
            } else {
                1 + depth(nodes, n.left as usize).max(depth(nodes, n.right as usize))
            }
        }
        depth(&self.nodes, 0)
    }
}

pub(super) fn check_cols(cols: usize, x: &Samples) -> Result<()> {
    if x.cols() != cols {
        return Err(Error::ShapeMismatch {
            what: "a tree model".into(),
            expected: format!("{cols} features per row, as it was fitted on"),
            found: format!("the samples have {}", x.cols()),
        });
    }
    Ok(())
}
