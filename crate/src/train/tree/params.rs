//! The settings of a tree and of a forest, checked before anything grows.

use serde::{Deserialize, Serialize};

use crate::train::checked::Checked;
use crate::{Error, Result};

/// Settings of [`DecisionTree`](super::DecisionTree) (and of each tree of a [`RandomForest`](super::RandomForest)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeParameters {
    /// Deepest split level (the root is depth 0).
    pub(super) max_depth: u16,
    /// Fewest (bootstrap-counted) training images in a leaf.
    pub(super) min_samples_leaf: usize,
    /// Weight the classes inversely to their frequency.
    pub(super) balanced: bool,
    /// Candidate features per split; `None`: all of them.
    pub(super) max_features: Option<usize>,
    /// Seed of the feature draws.
    pub(super) seed: u64,
}

impl Default for TreeParameters {
    fn default() -> Self {
        TreeParameters {
            max_depth: 6,
            min_samples_leaf: 20,
            balanced: true,
            max_features: None,
            seed: 42,
        }
    }
}

impl TreeParameters {
    /// Set the depth limit.
    pub fn with_max_depth(mut self, depth: u16) -> Self {
        self.max_depth = depth;
        self
    }
    /// Set the smallest leaf.
    pub fn with_min_samples_leaf(mut self, n: usize) -> Self {
        self.min_samples_leaf = n;
        self
    }
    /// Weight the classes inversely to their frequency, or not.
    pub fn with_balanced(mut self, yes: bool) -> Self {
        self.balanced = yes;
        self
    }
    /// Candidate features per split (`None`: all of them).
    pub fn with_max_features(mut self, features: Option<usize>) -> Self {
        self.max_features = features;
        self
    }
    /// The depth limit.
    pub fn max_depth(&self) -> u16 {
        self.max_depth
    }
    /// The smallest leaf.
    pub fn min_samples_leaf(&self) -> usize {
        self.min_samples_leaf
    }
    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// Set the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

impl TreeParameters {
    /// Checks the settings: at least one image per leaf, and at least one candidate feature
    /// per split when that is given. Only checked settings grow a tree.
    pub fn check(&self) -> Result<Checked<TreeParameters>> {
        if self.min_samples_leaf == 0 {
            return Err(Error::Parameter {
                name: "min_samples_leaf",
                value: "0".into(),
                expected: "1 or more images per leaf".into(),
            });
        }
        if self.max_features == Some(0) {
            return Err(Error::Parameter {
                name: "max_features",
                value: "0".into(),
                expected: "1 or more features per split (or None: all)".into(),
            });
        }
        Ok(Checked::accepted(self.clone()))
    }
}

impl ForestParameters {
    /// Checks the settings: at least one tree (a forest of none would score NaN), and the
    /// trees' own settings.
    pub fn check(&self) -> Result<Checked<ForestParameters>> {
        if self.trees == 0 {
            return Err(Error::Parameter {
                name: "trees",
                value: "0".into(),
                expected: "a forest of 1 or more trees".into(),
            });
        }
        self.tree.check()?;
        Ok(Checked::accepted(self.clone()))
    }
}

/// Settings of [`RandomForest`](super::RandomForest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForestParameters {
    /// How many trees.
    pub(super) trees: usize,
    /// Settings of each tree (its `max_features` defaults to `√p`, its seed is derived).
    pub(super) tree: TreeParameters,
}

impl Default for ForestParameters {
    fn default() -> Self {
        ForestParameters {
            trees: 200,
            tree: TreeParameters {
                max_depth: 16,
                min_samples_leaf: 1,
                balanced: true,
                max_features: None,
                seed: 42,
            },
        }
    }
}

impl ForestParameters {
    /// Set the number of trees (0 is refused when the forest is fitted, as [`Self::check`]
    /// says: never silently raised to 1).
    pub fn with_trees(mut self, trees: usize) -> Self {
        self.trees = trees;
        self
    }
    /// Set the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.tree.seed = seed;
        self
    }
    /// How many trees.
    pub fn trees(&self) -> usize {
        self.trees
    }
    /// Each tree's settings.
    pub fn tree(&self) -> &TreeParameters {
        &self.tree
    }
}
