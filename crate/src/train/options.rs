//! The settings of an evaluation, checked before anything is fitted.

use super::checked::Checked;
use super::linear::{LogisticParameters, RidgeRegression};
use super::tree::{ForestParameters, TreeParameters};
use crate::subset::{Splits, Subset};
use crate::{Error, Result};

/// Settings of [`evaluate`](super::evaluate): builder methods, then [`check`](Self::check),
/// which every fit runs first.
///
/// ```
/// use xray_lab::train::TrainOptions;
/// let options = TrainOptions::new().trees(20).seed(7).shortcut(false);
/// assert!(options.check().is_ok());
/// assert!(TrainOptions::new().trees(0).check().is_err());
/// # Ok::<(), xray_lab::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    /// Relative ridge penalties to choose from on validation.
    ridge_penalties: Vec<f64>,
    /// Logistic regression's settings.
    logistic: LogisticParameters,
    /// The decision tree's settings.
    tree: TreeParameters,
    /// The random forest's settings.
    forest: ForestParameters,
    /// Block side for the forest's pooled pixels (10: 150x150 becomes 15x15).
    pool: usize,
    /// Block side for the decision tree's pooled pixels (15: 150x150 becomes 10x10).
    tree_pool: usize,
    /// Principal components of those the decision tree reads.
    tree_components: usize,
    /// Also fit the shortcut checks on file facts.
    shortcut: bool,
    /// The subsets models are fitted on, penalties and thresholds chosen on, and scored on.
    subsets: Splits<Subset>,
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
            subsets: Splits::new(Subset::Train, Subset::Validation, Subset::Test),
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
        self.tree = self.tree.with_seed(seed);
        self.forest = self.forest.with_seed(seed);
        self
    }
    /// Relative ridge penalties to choose from on validation (the default:
    /// [`RidgeRegression::default_penalties`]).
    pub fn ridge_penalties(mut self, penalties: Vec<f64>) -> Self {
        self.ridge_penalties = penalties;
        self
    }
    /// Logistic regression's settings.
    pub fn logistic(mut self, parameters: LogisticParameters) -> Self {
        self.logistic = parameters;
        self
    }
    /// The decision tree's settings.
    pub fn tree(mut self, parameters: TreeParameters) -> Self {
        self.tree = parameters;
        self
    }
    /// The random forest's settings.
    pub fn forest(mut self, parameters: ForestParameters) -> Self {
        self.forest = parameters;
        self
    }
    /// Block side of the forest's pooled pixels (the default 10: 150x150 becomes 15x15).
    pub fn pool(mut self, side: usize) -> Self {
        self.pool = side;
        self
    }
    /// Block side of the decision tree's pooled pixels (the default 15: 150x150 becomes 10x10)
    /// and how many of their principal components it reads (the default 16).
    pub fn tree_inputs(mut self, side: usize, components: usize) -> Self {
        self.tree_pool = side;
        self.tree_components = components;
        self
    }
    /// The subsets models are fitted on, penalties and thresholds chosen on, and scored on.
    pub fn subsets(mut self, subsets: Splits<Subset>) -> Self {
        self.subsets = subsets;
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
        self.logistic = self.logistic.with_balanced(yes);
        self
    }
    /// Trees in the forest (at least 1: [`check`](Self::check) refuses 0).
    pub fn trees(mut self, trees: usize) -> Self {
        self.forest = self.forest.with_trees(trees);
        self
    }
    /// Checks every setting before anything is fitted: penalties finite and not negative, at
    /// least one tree, block sides and components above 0, three different subsets. The
    /// evaluation runs only on what this returns.
    pub fn check(&self) -> Result<CheckedTrainOptions> {
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
        let logistic = self.logistic.check()?;
        let tree = self.tree.check()?;
        let forest = self.forest.check()?;
        for (name, value) in [
            ("pool", self.pool),
            ("tree_pool", self.tree_pool),
            ("tree_components", self.tree_components),
        ] {
            if value == 0 {
                return bad(name, "0".into(), "1 or more");
            }
        }
        let Splits {
            train,
            validation,
            test,
        } = &self.subsets;
        if train == validation || train == test || validation == test {
            return bad(
                "subsets",
                format!("{train}, {validation}, {test}"),
                "three different subsets for train, validation and test",
            );
        }
        Ok(CheckedTrainOptions {
            ridge_penalties: self.ridge_penalties.clone(),
            logistic,
            tree,
            forest,
            pool: self.pool,
            tree_pool: self.tree_pool,
            tree_components: self.tree_components,
            shortcut: self.shortcut,
            subsets: self.subsets.clone(),
        })
    }
}

/// [`TrainOptions`] that passed their check, each model's settings [`Checked`] with them: what
/// the evaluation's fits take. Read-only.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedTrainOptions {
    ridge_penalties: Vec<f64>,
    logistic: Checked<LogisticParameters>,
    tree: Checked<TreeParameters>,
    forest: Checked<ForestParameters>,
    pool: usize,
    tree_pool: usize,
    tree_components: usize,
    shortcut: bool,
    subsets: Splits<Subset>,
}

impl CheckedTrainOptions {
    /// Relative ridge penalties to choose from on validation.
    pub fn ridge_penalties(&self) -> &[f64] {
        &self.ridge_penalties
    }
    /// Logistic regression's settings.
    pub fn logistic(&self) -> &Checked<LogisticParameters> {
        &self.logistic
    }
    /// The decision tree's settings.
    pub fn tree(&self) -> &Checked<TreeParameters> {
        &self.tree
    }
    /// The random forest's settings.
    pub fn forest(&self) -> &Checked<ForestParameters> {
        &self.forest
    }
    /// Block side of the forest's pooled pixels.
    pub fn pool(&self) -> usize {
        self.pool
    }
    /// Block side of the decision tree's pooled pixels.
    pub fn tree_pool(&self) -> usize {
        self.tree_pool
    }
    /// Principal components the decision tree reads.
    pub fn tree_components(&self) -> usize {
        self.tree_components
    }
    /// Whether the shortcut checks are fitted.
    pub fn shortcut(&self) -> bool {
        self.shortcut
    }
    /// The subsets for training, validation and test.
    pub fn subsets(&self) -> &Splits<Subset> {
        &self.subsets
    }
}
