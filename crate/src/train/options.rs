//! The settings of an evaluation, checked before anything is fitted.

use super::linear::{LogisticParameters, RidgeRegression};
use super::tree::{ForestParameters, TreeParameters};
use crate::subset::Subset;
use crate::{Error, Result};

/// Settings of [`evaluate`].
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    /// Relative ridge penalties to choose from on validation.
    pub ridge_penalties: Vec<f64>,
    /// Logistic regression's settings.
    pub logistic: LogisticParameters,
    /// The decision tree's settings.
    pub tree: TreeParameters,
    /// The random forest's settings.
    pub forest: ForestParameters,
    /// Block side for the forest's pooled pixels (10: 150x150 becomes 15x15).
    pub pool: usize,
    /// Block side for the decision tree's pooled pixels (15: 150x150 becomes 10x10).
    pub tree_pool: usize,
    /// Principal components of those the decision tree reads.
    pub tree_components: usize,
    /// Also fit the shortcut checks on file facts.
    pub shortcut: bool,
    /// The subset models are fitted on.
    pub train: Subset,
    /// The subset penalties and thresholds are chosen on.
    pub validation: Subset,
    /// The held-out subset.
    pub test: Subset,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            ridge_penalties: RidgeRegression::default_penalties(),
            logistic: LogisticParameters::default(),
            tree: TreeParameters::default(),
            forest: ForestParameters::default(),
            pool: 10,
            tree_pool: 15,
            tree_components: 16,
            shortcut: true,
            train: Subset::Train,
            validation: Subset::Validation,
            test: Subset::Test,
        }
    }
}

impl TrainOptions {
    /// The defaults: every model, shortcut checks included, on train / validation / test.
    pub fn new() -> Self {
        Self::default()
    }
    /// One seed for the tree and the forest.
    pub fn seed(mut self, seed: u64) -> Self {
        self.tree.seed = seed;
        self.forest.tree.seed = seed;
        self
    }
    /// Fit the shortcut checks, or not.
    pub fn shortcut(mut self, yes: bool) -> Self {
        self.shortcut = yes;
        self
    }
    /// Weight the classes inversely to their frequency in the logistic regression (the
    /// default), or not.
    pub fn class_weights(mut self, yes: bool) -> Self {
        self.logistic.balanced = yes;
        self
    }
    /// Trees in the forest (at least 1: [`check`](Self::check) refuses 0).
    pub fn trees(mut self, trees: usize) -> Self {
        self.forest.trees = trees;
        self
    }
    /// Checks every setting before anything is fitted: penalties finite and not negative, at
    /// least one tree, block sides and components above 0, three different subsets.
    pub fn check(&self) -> Result<()> {
        let bad = |name: &'static str, value: String, expected: &str| {
            Err(Error::Parameter {
                name,
                value,
                expected: expected.to_string(),
            })
        };
        if self.ridge_penalties.is_empty() {
            return bad("ridge_penalties", "[]".into(), "at least one penalty");
        }
        if let Some(p) = self
            .ridge_penalties
            .iter()
            .find(|p| !(p.is_finite() && **p >= 0.0))
        {
            return bad(
                "ridge_penalties",
                p.to_string(),
                "finite penalties of 0 or more",
            );
        }
        self.logistic.check()?;
        self.tree.check()?;
        self.forest.check()?;
        for (name, value) in [
            ("pool", self.pool),
            ("tree_pool", self.tree_pool),
            ("tree_components", self.tree_components),
        ] {
            if value == 0 {
                return bad(name, "0".into(), "1 or more");
            }
        }
        if self.train == self.validation || self.train == self.test || self.validation == self.test
        {
            return bad(
                "subsets",
                format!("{}, {}, {}", self.train, self.validation, self.test),
                "three different subsets for train, validation and test",
            );
        }
        Ok(())
    }
}
