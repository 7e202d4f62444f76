//! MLlib's `regParam` in our units and back.

/// Which solver Spark's `LinearRegression` runs: it decides how MLlib measures the label's
/// spread, and so how its `regParam` maps onto our penalty ([`mllib_reg_param`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MllibSolver {
    /// `solver="normal"` (weighted least squares): standard deviations divide by `n`.
    NormalEquations,
    /// `solver="l-bfgs"`: standard deviations divide by `n - 1` (Spark's summarizer).
    Lbfgs,
}

impl MllibSolver {
    /// The most features for which `solver="auto"` (with the squared-error loss) picks the
    /// normal equations (`WeightedLeastSquares.MAX_NUM_FEATURES` in Spark's source); above it,
    /// L-BFGS.
    pub const NORMAL_MAX_FEATURES: usize = 4096;

    /// What `solver="auto"` runs on `features` features: L-BFGS for the course's 22,500 pixels.
    pub fn auto(features: usize) -> Self {
        if features <= Self::NORMAL_MAX_FEATURES {
            MllibSolver::NormalEquations
        } else {
            MllibSolver::Lbfgs
        }
    }

    /// The standard deviation of `values` as this solver computes it.
    pub fn std(self, values: impl IntoIterator<Item = f64>) -> f64 {
        let values: Vec<f64> = values.into_iter().collect();
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n.max(1.0);
        let squares = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>();
        let dof = match self {
            MllibSolver::NormalEquations => n,
            MllibSolver::Lbfgs => n - 1.0,
        };
        (squares / dof.max(1.0)).sqrt()
    }
}

/// MLlib's `regParam` (with `standardization=False`, `elasticNetParam=0` and an intercept) that
/// fits the same model as our ridge penalty `α`, for training labels `labels`: `α·σ_y / n`.
///
/// Why: MLlib scales the label by its standard deviation `σ_y` and the penalty with it
/// (`effectiveRegParam = regParam / yStd` in its source), so it minimises
/// `1/(2n)‖y - Xw - b‖²/σ_y² + (regParam/σ_y)/2 · ‖w/σ_y‖²`; multiplied by `2n·σ_y²` that is
/// `‖y - Xw - b‖² + (n·regParam/σ_y)‖w‖²`, ours at `α = n·regParam/σ_y`. `σ_y` is measured as
/// `solver` does ([`MllibSolver::std`]). With `standardization=True`, MLlib also multiplies the
/// penalty on feature `j`'s weight by its variance: ours on features divided by their standard
/// deviations. Both checked against pyspark 3.5 to 1e-6 (`py/tests/test_mllib.py`).
///
/// ```
/// use xray_lab::train::linear::{mllib_reg_param, ridge_alpha_of_mllib, MllibSolver};
/// let labels = [0, 1, 1, 1];                        // σ_y = √0.1875 with the normal equations
/// let solver = MllibSolver::auto(30);
/// let reg_param = mllib_reg_param(2.0, &labels, solver);
/// assert!((reg_param - 2.0 * 0.1875f64.sqrt() / 4.0).abs() < 1e-12);
/// assert!((ridge_alpha_of_mllib(reg_param, &labels, solver) - 2.0).abs() < 1e-12);
/// ```
pub fn mllib_reg_param(alpha: f64, labels: &[u32], solver: MllibSolver) -> f64 {
    alpha * solver.std(labels.iter().map(|&y| y as f64)) / labels.len().max(1) as f64
}

/// Our ridge penalty `α` for MLlib's `regParam`: the inverse of [`mllib_reg_param`],
/// `n·regParam / σ_y`.
pub fn ridge_alpha_of_mllib(reg_param: f64, labels: &[u32], solver: MllibSolver) -> f64 {
    let spread = solver.std(labels.iter().map(|&y| y as f64));
    reg_param * labels.len() as f64 / spread.max(f64::MIN_POSITIVE)
}
