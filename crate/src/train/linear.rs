//! The linear models: the report's regularized linear regression (ridge) and logistic regression.
//!
//! Why not smartcore here: its `RidgeRegression` forms the p x p normal equations and its
//! `LogisticRegression` a dense Hessian-free solver over p unknowns whose cost grows far faster
//! than p; measured on 2 cores at n = 2,800, ridge took 50 s at p = 2,048 and logistic regression
//! 132 s at p = 4,096, so hours at the report's p = 22,500. The formulations below avoid the
//! p x p matrix:
//!
//! * ridge, when features outnumber images (the pixel case), solves the dual (kernel) form as
//!   scikit-learn does: `(K + αI) c = y` with the n x n Gram matrix `K = X Xᵀ` (faer's
//!   parallel matrix product, only its lower half), then `w = Xᵀ c`; when images outnumber
//!   features it solves the p x p primal. Both centre X and y first, so the intercept is not
//!   penalised.
//! * logistic regression minimises the mean (class-weighted) log-loss plus `λ/2 ‖w‖²` with
//!   L-BFGS (argmin), one fused parallel pass over X per evaluation for the loss and gradient.

use std::sync::Mutex;

use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::linalg::solvers::Solve;
use faer::linalg::triangular_solve;
use faer::{Accum, Mat, MatRef, Par, Side};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::samples::Samples;
use crate::error::PolarsContext;
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

/// `a · b`, summed in order. Moving centred weights back to raw features (`b - μ · w`) uses it
/// for every linear model.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// Column means of `x` (f64).
fn column_means(x: &Samples) -> Vec<f64> {
    let mut mean = vec![0.0f64; x.cols()];
    for i in 0..x.rows() {
        for (m, &v) in mean.iter_mut().zip(x.row(i)) {
            *m += v as f64;
        }
    }
    let n = x.rows().max(1) as f64;
    mean.iter_mut().for_each(|m| *m /= n);
    mean
}

fn check_trainable(x: &Samples, what: &str) -> Result<()> {
    if x.rows() < 2 || x.cols() == 0 {
        return Err(Error::ShapeMismatch {
            what: what.to_string(),
            expected: "at least 2 images with features".into(),
            found: format!("got {} x {}", x.rows(), x.cols()),
        });
    }
    Ok(())
}

/// Regularized linear regression on the 0/1 labels, the report's model (MLlib's
/// `LinearRegression` with `regParam`, elastic net 0): minimises `‖y - Xw - b‖² + α‖w‖²`, as
/// scikit-learn's `Ridge(alpha)` does. The same fit as MLlib's at `regParam =`
/// [`mllib_reg_param`] (`α·σ_y / n`), tested against Spark in the Python package's suite.
///
/// ```
/// use xray_lab::train::{Samples, linear::RidgeRegression};
/// // y = x0 - x1 on four points, barely regularized.
/// let x = Samples::new(vec![0., 0., 1., 0., 0., 1., 1., 1.], 2, vec![0, 1, 0, 0])?;
/// let ridge = RidgeRegression::fit(&x, 1e-9)?;
/// assert!((ridge.model.weights[0] - 0.5).abs() < 1e-6);
/// # Ok::<(), xray_lab::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RidgeRegression {
    /// The fitted weights and intercept.
    pub model: LinearModel,
    /// The penalty it was fitted with.
    pub alpha: f64,
}

/// The centred problem, factored once so that several penalties cost one solve each, and shared
/// by ridge regression and the dual logistic regression when both train on the same rows.
pub(crate) struct Centred {
    /// Column means of X.
    mean: Vec<f64>,
    /// Mean of y.
    y_mean: f64,
    /// Centred X, row-major, f32 (n x p).
    xc: Vec<f32>,
    rows: usize,
    cols: usize,
    /// Dual (K = Xc Xcᵀ, n x n) when p > n, else primal (Xcᵀ Xc, p x p); lower half filled, f64.
    gram: Mat<f64>,
    /// Right-hand side: yc for the dual, Xcᵀ yc for the primal.
    rhs: Vec<f64>,
    dual: bool,
}

impl Centred {
    pub(crate) fn new(x: &Samples) -> Result<Centred> {
        check_trainable(x, "ridge regression")?;
        let (n, p) = (x.rows(), x.cols());
        let mean = column_means(x);
        let y_mean = x.y.iter().map(|&y| y as f64).sum::<f64>() / n as f64;
        let yc: Vec<f64> = x.y.iter().map(|&y| y as f64 - y_mean).collect();
        let mut xc = vec![0f32; n * p];
        xc.par_chunks_mut(p).enumerate().for_each(|(i, out)| {
            for ((o, &v), &m) in out.iter_mut().zip(x.row(i)).zip(&mean) {
                *o = (v as f64 - m) as f32;
            }
        });
        let dual = p > n;
        let view = MatRef::from_row_major_slice(&xc, n, p);
        let gram = if dual {
            gram_lower(view)
        } else {
            gram_lower(view.transpose())
        };
        let rhs = if dual {
            yc
        } else {
            let mut r = vec![0.0; p];
            for (i, &yi) in yc.iter().enumerate() {
                for (r, &v) in r.iter_mut().zip(&xc[i * p..(i + 1) * p]) {
                    *r += v as f64 * yi;
                }
            }
            r
        };
        Ok(Centred {
            mean,
            y_mean,
            xc,
            rows: n,
            cols: p,
            gram,
            rhs,
            dual,
        })
    }

    /// `w = Xcᵀ c`: primal weights from dual coefficients, accumulated in f64 in row order
    /// (deterministic).
    fn primal_weights(&self, c: &[f64]) -> Vec<f64> {
        let p = self.cols;
        let mut w = vec![0.0f64; p];
        for (i, &c) in c.iter().enumerate().take(self.rows) {
            for (w, &v) in w.iter_mut().zip(&self.xc[i * p..(i + 1) * p]) {
                *w += v as f64 * c;
            }
        }
        w
    }

    /// Mean of the diagonal of the Gram matrix: the scale a penalty is measured against.
    fn scale(&self) -> f64 {
        let d = self.gram.nrows();
        (0..d).map(|i| self.gram[(i, i)]).sum::<f64>() / d.max(1) as f64
    }

    fn solve(&self, alpha: f64) -> Result<RidgeRegression> {
        let d = self.gram.nrows();
        let mut a = Mat::<f64>::from_fn(d, d, |i, j| if i >= j { self.gram[(i, j)] } else { 0.0 });
        for i in 0..d {
            a[(i, i)] += alpha;
        }
        let llt = a.llt(Side::Lower).map_err(|_| Error::Fit {
            model: "ridge regression".into(),
            reason: format!(
                "the system is not positive definite at alpha = {alpha} (use a larger penalty)"
            ),
        })?;
        let rhs = Mat::<f64>::from_fn(d, 1, |i, _| self.rhs[i]);
        let sol = llt.solve(&rhs);
        let (n, p) = (self.rows, self.cols);
        let weights = if self.dual {
            self.primal_weights(&(0..n).map(|i| sol[(i, 0)]).collect::<Vec<_>>())
        } else {
            (0..p).map(|j| sol[(j, 0)]).collect()
        };
        let intercept = self.y_mean - dot(&self.mean, &weights);
        Ok(RidgeRegression {
            model: LinearModel { weights, intercept },
            alpha,
        })
    }
}

/// The lower half of `m mᵀ` in f64. The product runs in f32 over blocks of 1,024 columns (faer's
/// SIMD kernels, half the memory traffic of f64) and the blocks are summed in f64, so no dot
/// product longer than 1,024 terms is accumulated in single precision.
fn gram_lower(m: MatRef<'_, f32>) -> Mat<f64> {
    const BLOCK: usize = 1024;
    let (d, k) = (m.nrows(), m.ncols());
    let mut total = Mat::<f64>::zeros(d, d);
    let mut part = Mat::<f32>::zeros(d, d);
    let mut start = 0;
    while start < k {
        let width = BLOCK.min(k - start);
        let block = m.subcols(start, width);
        triangular::matmul(
            part.as_mut(),
            BlockStructure::TriangularLower,
            Accum::Replace,
            block,
            BlockStructure::Rectangular,
            block.transpose(),
            BlockStructure::Rectangular,
            1.0f32,
            Par::rayon(0),
        );
        for j in 0..d {
            for i in j..d {
                total[(i, j)] += part[(i, j)] as f64;
            }
        }
        start += width;
    }
    total
}

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

/// The report's two numbers for a fitted [`RidgeRegression`] on one subset, with the penalty in
/// our units and in MLlib's. Shows as a one-row table at the end of a notebook cell.
#[derive(Debug, Clone, PartialEq)]
pub struct RegressionScore {
    /// `α` in `‖y - Xw - b‖² + α‖w‖²` (scikit-learn's `Ridge(alpha)`).
    pub penalty: f64,
    /// The same penalty as MLlib's `regParam` with `standardization=False` and the solver
    /// `solver="auto"` picks for these features: [`mllib_reg_param`], `α·σ_y / n`. (With MLlib's default `standardization=True` the
    /// penalty on pixel `j`'s raw weight is multiplied by its variance, so no single number
    /// matches.)
    pub mllib_reg_param: f64,
    /// Root mean squared error of the outputs against 0/1.
    pub rmse: f64,
    /// R² of the outputs against 0/1.
    pub r2: f64,
    /// The model's constant term: its output for an all-black image.
    pub intercept: f64,
}

impl RegressionScore {
    /// The score as a one-row table.
    pub fn table(&self) -> Result<polars::prelude::DataFrame> {
        use polars::prelude::*;
        df!(
            "penalty (ours)" => [self.penalty],
            "MLlib regParam" => [self.mllib_reg_param],
            "rmse" => [self.rmse],
            "r2" => [self.r2],
            "intercept" => [self.intercept],
        )
        .ctx("building the regression score table")
    }

    /// evcxr's display hook: the one-row table.
    pub fn evcxr_display(&self) {
        crate::frame::show(self.table())
    }
}

/// A penalty search ([`RidgeRegression::fit_path`]) as a table: `penalty` and `validation
/// rmse`, one row per penalty tried.
pub fn penalty_table(path: &[(f64, f64)]) -> Result<polars::prelude::DataFrame> {
    use polars::prelude::*;
    df!(
        "penalty" => path.iter().map(|p| p.0).collect::<Vec<_>>(),
        "validation rmse" => path.iter().map(|p| p.1).collect::<Vec<_>>(),
    )
    .ctx("building the penalty table")
}

impl RidgeRegression {
    /// RMSE and R² on `x` (the report's measures), with the penalty in our units and MLlib's
    /// (`train`: the samples it was fitted on, whose labels MLlib scales by) and the intercept.
    pub fn score(&self, x: &Samples, train: &Samples) -> Result<RegressionScore> {
        let predictions = self.predict(x)?;
        Ok(RegressionScore {
            penalty: self.alpha,
            mllib_reg_param: mllib_reg_param(
                self.alpha,
                train.y(),
                MllibSolver::auto(train.cols()),
            ),
            rmse: super::metrics::rmse(&predictions, x.y()),
            r2: super::metrics::r2(&predictions, x.y()),
            intercept: self.model.intercept,
        })
    }

    /// Fit with penalty `alpha` (in scikit-learn's units).
    pub fn fit(x: &Samples, alpha: f64) -> Result<RidgeRegression> {
        if !(alpha > 0.0 && alpha.is_finite()) {
            return Err(Error::Parameter {
                name: "penalty",
                value: alpha.to_string(),
                expected: "a positive number (ridge regression)".into(),
            });
        }
        Centred::new(x)?.solve(alpha)
    }

    /// Fit one model per relative penalty on `train` and keep the one with the lowest RMSE on
    /// `validation`: the report's regularization, chosen instead of guessed. Penalties are
    /// relative to the mean diagonal of the Gram matrix (the mean squared norm of a centred row
    /// in the dual form), so the same grid suits 25 or 22,500 features; the Gram matrix is built
    /// once and each penalty costs one Cholesky solve.
    ///
    /// Returns the chosen model and, per penalty, `(alpha, validation RMSE)`.
    pub fn fit_path(
        train: &Samples,
        validation: &Samples,
        relative: &[f64],
    ) -> Result<(RidgeRegression, Vec<(f64, f64)>)> {
        Self::fit_path_centred(&Centred::new(train)?, validation, relative)
    }

    /// [`RidgeRegression::fit_path`] on a training set already centred.
    pub(crate) fn fit_path_centred(
        centred: &Centred,
        validation: &Samples,
        relative: &[f64],
    ) -> Result<(RidgeRegression, Vec<(f64, f64)>)> {
        if relative.is_empty() {
            return Err(Error::Empty {
                what: "ridge regression's penalty path".into(),
                item: "penalty to try",
            });
        }
        let scale = centred.scale().max(f64::MIN_POSITIVE);
        let mut best: Option<(f64, RidgeRegression)> = None;
        let mut path = Vec::new();
        for &r in relative {
            let model = centred.solve(r * scale)?;
            let error = super::metrics::rmse(&model.predict(validation)?, &validation.y);
            path.push((model.alpha, error));
            if best.as_ref().is_none_or(|(e, _)| error < *e) {
                best = Some((error, model));
            }
        }
        let (_, model) = best.expect("at least one penalty");
        Ok((model, path))
    }

    /// The default relative penalties of [`RidgeRegression::fit_path`]: 10⁻³ to 10².
    pub fn default_penalties() -> Vec<f64> {
        vec![1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0]
    }

    /// Predicted values (regression outputs, around 0 for NORMAL and 1 for PNEUMONIA).
    pub fn predict(&self, x: &Samples) -> Result<Vec<f64>> {
        self.model.decisions(x)
    }
}

/// Settings of [`LogisticRegression`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticParameters {
    /// `λ` in `mean log-loss + λ/2 ‖w‖²`; `None`: `1/n`, which is scikit-learn's default `C = 1`.
    /// MLlib's `LogisticRegression(regParam = λ, standardization=False)` minimises the same
    /// objective (without class weights); with `standardization=True` it matches ours with
    /// `standardize` at `λ = regParam·n/(n-1)`, because MLlib divides each feature by its sample
    /// standard deviation and we by the population one. Both tested against Spark
    /// (`py/tests/test_mllib.py`).
    pub penalty: Option<f64>,
    /// Weight the classes inversely to their frequency (scikit-learn's `class_weight="balanced"`).
    pub balanced: bool,
    /// Divide each feature by its standard deviation (for features on different scales, such
    /// as file facts; pixels share one scale and need not).
    pub standardize: bool,
    /// L-BFGS iterations at most (scikit-learn's default is 100).
    pub max_iter: u64,
    /// Stop when the gradient's norm falls below this.
    pub tolerance: f64,
}

impl Default for LogisticParameters {
    fn default() -> Self {
        LogisticParameters {
            penalty: None,
            balanced: true,
            standardize: false,
            max_iter: 100,
            tolerance: 1e-5,
        }
    }
}

impl LogisticParameters {
    /// Checks the settings (the pattern of linfa's checked hyperparameters, done when a fit
    /// starts): a penalty, when given, finite and not negative; a positive, finite tolerance.
    pub fn check(&self) -> Result<()> {
        if let Some(p) = self.penalty.filter(|p| !(p.is_finite() && *p >= 0.0)) {
            return Err(Error::Parameter {
                name: "penalty",
                value: p.to_string(),
                expected: "a finite penalty of 0 or more".into(),
            });
        }
        if !(self.tolerance.is_finite() && self.tolerance > 0.0) {
            return Err(Error::Parameter {
                name: "tolerance",
                value: self.tolerance.to_string(),
                expected: "a finite tolerance above 0".into(),
            });
        }
        Ok(())
    }

    /// Set `λ`.
    pub fn with_penalty(mut self, penalty: f64) -> Self {
        self.penalty = Some(penalty);
        self
    }
    /// Weight classes by inverse frequency, or not.
    pub fn with_balanced(mut self, yes: bool) -> Self {
        self.balanced = yes;
        self
    }
    /// Standardize features, or only centre them.
    pub fn with_standardize(mut self, yes: bool) -> Self {
        self.standardize = yes;
        self
    }
    /// At most this many L-BFGS iterations.
    pub fn with_max_iter(mut self, iterations: u64) -> Self {
        self.max_iter = iterations;
        self
    }
}

/// L2-regularized logistic regression: `P(PNEUMONIA | x) = 1 / (1 + exp(-(x·w + b)))`.
///
/// ```
/// use xray_lab::train::{Samples, linear::{LogisticRegression, LogisticParameters}};
/// let x = Samples::new(vec![0.0, 0.2, 0.8, 1.0], 1, vec![0, 0, 1, 1])?;
/// let model = LogisticRegression::fit(&x, &LogisticParameters::default().with_penalty(1e-3))?;
/// let p = model.predict_proba(&x)?;
/// assert!(p[0] < 0.2 && p[3] > 0.8);
/// # Ok::<(), xray_lab::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticRegression {
    /// Weights and intercept in the features' own units (the log-odds of PNEUMONIA).
    pub model: LinearModel,
    /// The penalty used.
    pub penalty: f64,
    /// L-BFGS iterations run.
    pub iterations: u64,
}

/// A smooth objective: its value and gradient at `theta`, from one pass over the data.
trait Objective {
    fn evaluate(&self, theta: &[f64]) -> (f64, Vec<f64>);
}

/// An objective as argmin wants it, keeping the last evaluation (parameters, cost, gradient) so
/// that argmin's separate cost and gradient calls at the same point share one pass.
struct Memoised<'a, T> {
    objective: &'a T,
    last: Mutex<Option<Evaluated>>,
}

/// Parameters, the cost there and the gradient there.
type Evaluated = (Vec<f64>, f64, Vec<f64>);

impl<T: Objective> Memoised<'_, T> {
    fn evaluate(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        let mut last = self.last.lock().expect("memo");
        if let Some((at, cost, grad)) = last.as_ref() {
            if at.as_slice() == theta {
                return (*cost, grad.clone());
            }
        }
        let (cost, grad) = self.objective.evaluate(theta);
        *last = Some((theta.to_vec(), cost, grad.clone()));
        (cost, grad)
    }
}

impl<T: Objective> CostFunction for Memoised<'_, T> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, theta: &Vec<f64>) -> std::result::Result<f64, argmin::core::Error> {
        Ok(self.evaluate(theta).0)
    }
}

impl<T: Objective> Gradient for Memoised<'_, T> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, theta: &Vec<f64>) -> std::result::Result<Vec<f64>, argmin::core::Error> {
        Ok(self.evaluate(theta).1)
    }
}

/// The loss and gradient over the training rows, in the centred (and scaled) coordinates.
struct LogLoss<'a> {
    x: &'a Samples,
    mean: Vec<f64>,
    inv_scale: Vec<f64>,
    weight: [f64; 2],
    total_weight: f64,
    penalty: f64,
}

const CHUNK: usize = 128;

impl Objective for LogLoss<'_> {
    fn evaluate(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        let p = self.x.cols();
        let (w, b) = (&theta[..p], theta[p]);
        // Raw-space weights: score = x · (w / s) + (b - μ · w / s).
        let v: Vec<f64> = w.iter().zip(&self.inv_scale).map(|(w, s)| w * s).collect();
        let offset = b - dot(&self.mean, &v);
        let rows = self.x.rows();
        // One pass: per fixed chunk of rows, the loss and Σ r_i x_i; chunks summed in order,
        // so the result does not depend on how rayon schedules them.
        let parts: Vec<(f64, f64, Vec<f64>)> = (0..rows.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let mut loss = 0.0;
                let mut residual_sum = 0.0;
                let mut g = vec![0.0f64; p];
                for i in c * CHUNK..((c + 1) * CHUNK).min(rows) {
                    let row = self.x.row(i);
                    let z = offset + row.iter().zip(&v).map(|(&x, v)| x as f64 * v).sum::<f64>();
                    let y = self.x.y[i] as f64;
                    let s = self.weight[self.x.y[i] as usize];
                    // log(1 + e^z) - y z, computed stably.
                    loss += s * (z.max(0.0) + (-z.abs()).exp().ln_1p() - y * z);
                    let r = s * (1.0 / (1.0 + (-z).exp()) - y);
                    residual_sum += r;
                    for (g, &x) in g.iter_mut().zip(row) {
                        *g += r * x as f64;
                    }
                }
                (loss, residual_sum, g)
            })
            .collect();
        let mut loss = 0.0;
        let mut residual_sum = 0.0;
        let mut g = vec![0.0f64; p + 1];
        for (l, r, part) in parts {
            loss += l;
            residual_sum += r;
            for (g, x) in g.iter_mut().zip(part) {
                *g += x;
            }
        }
        let t = self.total_weight;
        let mut cost = loss / t;
        for j in 0..p {
            g[j] =
                (g[j] - self.mean[j] * residual_sum) * self.inv_scale[j] / t + self.penalty * w[j];
            cost += 0.5 * self.penalty * w[j] * w[j];
        }
        g[p] = residual_sum / t;
        (cost, g)
    }
}

/// [`LogLoss`] in the span of the training rows (see [`LogisticRegression::fit_dual`]):
/// parameters `β` (n) and the intercept.
struct DualLogLoss<'a> {
    /// Row i holds `L[i][0..=i]`.
    lower: Vec<Vec<f32>>,
    u: Vec<f64>,
    c: f64,
    y: &'a [u32],
    weight: [f64; 2],
    total_weight: f64,
    penalty: f64,
}

impl Objective for DualLogLoss<'_> {
    fn evaluate(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        let n = self.lower.len();
        let (beta, b) = (&theta[..n], theta[n]);
        let s: f64 = self.u.iter().zip(beta).map(|(u, b)| u * b).sum();
        let offset = b - self.c * s;
        // Per row: the score, the loss and the residual (independent rows: any order).
        let per_row: Vec<(f64, f64)> = self
            .lower
            .par_iter()
            .zip(self.y.par_iter())
            .map(|(row, &y)| {
                let z = offset
                    + row
                        .iter()
                        .zip(beta)
                        .map(|(&l, b)| l as f64 * b)
                        .sum::<f64>();
                let (yf, w) = (y as f64, self.weight[y as usize]);
                let loss = w * (z.max(0.0) + (-z.abs()).exp().ln_1p() - yf * z);
                (loss, w * (1.0 / (1.0 + (-z).exp()) - yf))
            })
            .collect();
        let t = self.total_weight;
        let loss: f64 = per_row.iter().map(|(l, _)| l).sum();
        let r: Vec<f64> = per_row.iter().map(|(_, r)| r / t).collect();
        let r_sum: f64 = r.iter().sum();
        // Lᵀ r, by fixed chunks of rows summed in order (deterministic under rayon).
        let parts: Vec<Vec<f64>> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|k| {
                let mut g = vec![0.0f64; n];
                let rows = k * CHUNK..((k + 1) * CHUNK).min(n);
                for (row, &r) in self.lower[rows.clone()].iter().zip(&r[rows]) {
                    for (g, &l) in g.iter_mut().zip(row) {
                        *g += r * l as f64;
                    }
                }
                g
            })
            .collect();
        let mut g = vec![0.0f64; n + 1];
        for part in parts {
            for (g, v) in g.iter_mut().zip(part) {
                *g += v;
            }
        }
        let mut cost = loss / t - 0.5 * self.penalty * self.c * s * s;
        for j in 0..n {
            g[j] += -self.c * self.u[j] * r_sum + self.penalty * (beta[j] - self.c * self.u[j] * s);
            cost += 0.5 * self.penalty * beta[j] * beta[j];
        }
        g[n] = r_sum;
        (cost, g)
    }
}

/// L-BFGS (memory 10, Moré-Thuente line search) from `start`: the best parameters and the
/// iterations run.
fn minimise<P: Objective>(
    objective: &P,
    start: Vec<f64>,
    parameters: &LogisticParameters,
) -> Result<(Vec<f64>, u64)> {
    let problem = Memoised {
        objective,
        last: Mutex::new(None),
    };
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(parameters.tolerance)
        .and_then(|s| s.with_tolerance_cost(1e-12))
        .map_err(|e| Error::Fit {
            model: "logistic regression".into(),
            reason: format!("L-BFGS settings: {e}"),
        })?;
    let result = Executor::new(problem, solver)
        .configure(|state| state.param(start.clone()).max_iters(parameters.max_iter))
        .run()
        .map_err(|e| Error::Fit {
            model: "logistic regression".into(),
            reason: format!("L-BFGS failed: {e}"),
        })?;
    let state = result.state();
    let theta = state.get_best_param().cloned().unwrap_or(start);
    Ok((theta, state.get_iter()))
}

impl LogisticRegression {
    /// Fit on `x` (labels 0/1).
    pub fn fit(x: &Samples, parameters: &LogisticParameters) -> Result<LogisticRegression> {
        Self::fit_with(x, parameters, None)
    }

    /// [`LogisticRegression::fit`], reusing `centred` (built by [`Centred::new`] from this same
    /// `x`) when the dual path runs, instead of centring `x` and building its Gram matrix again.
    /// A `centred` of another shape is ignored.
    pub(crate) fn fit_with(
        x: &Samples,
        parameters: &LogisticParameters,
        centred: Option<&Centred>,
    ) -> Result<LogisticRegression> {
        parameters.check()?;
        check_trainable(x, "logistic regression")?;
        let (n, p) = (x.rows(), x.cols());
        let positives = x.y.iter().filter(|&&y| y == 1).count();
        if positives == 0 || positives == n {
            return Err(Error::OneClass {
                what: "logistic regression".into(),
                found: "training has one".into(),
            });
        }
        let weight = if parameters.balanced {
            [
                n as f64 / (2.0 * (n - positives) as f64),
                n as f64 / (2.0 * positives as f64),
            ]
        } else {
            [1.0, 1.0]
        };
        let mean = column_means(x);
        let inv_scale = if parameters.standardize {
            let mut var = vec![0.0f64; p];
            for i in 0..n {
                for ((v, &x), m) in var.iter_mut().zip(x.row(i)).zip(&mean) {
                    *v += (x as f64 - m).powi(2);
                }
            }
            var.iter()
                .map(|v| {
                    let sd = (v / n as f64).sqrt();
                    if sd > 0.0 {
                        1.0 / sd
                    } else {
                        1.0
                    }
                })
                .collect()
        } else {
            vec![1.0; p]
        };
        let penalty = parameters.penalty.unwrap_or(1.0 / n as f64);
        // Start at w = 0 with the intercept at the weighted log-odds.
        let pos_w = positives as f64 * weight[1];
        let neg_w = (n - positives) as f64 * weight[0];
        let start_intercept = (pos_w / neg_w).ln();
        // The dual pays for the n x n Gram matrix and its factor up front; it wins when pixels
        // outnumber images by more than about two to one (measured: 2,800 x 22,500 in 1.9 s
        // instead of 4.0 s; 2,800 x 4,096 in 1.0 s instead of 0.74 s).
        if !parameters.standardize && p > 2 * n {
            return Self::fit_dual(x, centred, parameters, weight, penalty, start_intercept);
        }
        let problem = LogLoss {
            x,
            mean,
            inv_scale,
            weight,
            total_weight: x.y.iter().map(|&y| weight[y as usize]).sum(),
            penalty,
        };
        let mut start = vec![0.0; p + 1];
        start[p] = start_intercept;
        let (theta, iterations) = minimise(&problem, start, parameters)?;
        let v: Vec<f64> = theta[..p]
            .iter()
            .zip(&problem.inv_scale)
            .map(|(w, s)| w * s)
            .collect();
        let intercept = theta[p] - dot(&problem.mean, &v);
        Ok(LogisticRegression {
            model: LinearModel {
                weights: v,
                intercept,
            },
            penalty,
            iterations,
        })
    }

    /// The same objective solved in the span of the training rows, for p > 2n (22,500 pixels,
    /// a few thousand images). The optimum lies in that span (the loss's gradient is a sum of
    /// rows and the penalty's is `λw`), so with `K = Xc Xcᵀ` (n x n) and its factor
    /// `K + c 11ᵀ + εI = L Lᵀ`, `w = Xcᵀ L⁻ᵀ β` maps β isometrically onto it: scores are
    /// `Lβ - c (uᵀβ) 1 + b` and `‖w‖² = ‖β‖² - c (uᵀβ)²` with `u = L⁻¹1` (the `c 11ᵀ` term
    /// stands in for the direction that centring removed, which changes nothing). L-BFGS then
    /// takes the same steps as on the pixels, each costing n² instead of n·p: on 2,232 x 22,500,
    /// 0.8 s instead of 3.3 s. (`ε`, 10⁻⁹ of the scale, keeps exact duplicate images from
    /// making the factorisation fail.)
    fn fit_dual(
        x: &Samples,
        centred: Option<&Centred>,
        parameters: &LogisticParameters,
        weight: [f64; 2],
        penalty: f64,
        start_intercept: f64,
    ) -> Result<LogisticRegression> {
        let own;
        let centred = match centred {
            Some(c) if c.rows == x.rows() && c.cols == x.cols() && c.dual => c,
            _ => {
                own = Centred::new(x)?;
                &own
            }
        };
        let n = x.rows();
        let c = centred.scale().max(f64::MIN_POSITIVE);
        let jitter = 1e-9 * c;
        let gram = &centred.gram;
        let m = Mat::<f64>::from_fn(n, n, |i, j| {
            if i >= j {
                gram[(i, j)] + c + if i == j { jitter } else { 0.0 }
            } else {
                0.0
            }
        });
        let llt = m.llt(Side::Lower).map_err(|_| Error::Fit {
            model: "logistic regression".into(),
            reason: "the training images' Gram matrix could not be factored".into(),
        })?;
        let l = llt.L();
        let mut u = Mat::<f64>::from_fn(n, 1, |_, _| 1.0);
        triangular_solve::solve_lower_triangular_in_place(l, u.as_mut(), Par::Seq);
        // L's lower triangle in f32, row by row: the scores' pass reads half of n² values.
        let lower: Vec<Vec<f32>> = (0..n)
            .map(|i| (0..=i).map(|j| l[(i, j)] as f32).collect())
            .collect();
        let problem = DualLogLoss {
            lower,
            u: (0..n).map(|i| u[(i, 0)]).collect(),
            c,
            y: &x.y,
            weight,
            total_weight: x.y.iter().map(|&y| weight[y as usize]).sum(),
            penalty,
        };
        let mut start = vec![0.0; n + 1];
        start[n] = start_intercept;
        let (theta, iterations) = minimise(&problem, start, parameters)?;
        // α = L⁻ᵀ β, then w = Xcᵀ α.
        let mut alpha = Mat::<f64>::from_fn(n, 1, |i, _| theta[i]);
        triangular_solve::solve_upper_triangular_in_place(l.transpose(), alpha.as_mut(), Par::Seq);
        let alpha: Vec<f64> = (0..n).map(|i| alpha[(i, 0)]).collect();
        let weights = centred.primal_weights(&alpha);
        let intercept = theta[n] - dot(&centred.mean, &weights);
        Ok(LogisticRegression {
            model: LinearModel { weights, intercept },
            penalty,
            iterations,
        })
    }

    /// `P(PNEUMONIA)` for every row.
    pub fn predict_proba(&self, x: &Samples) -> Result<Vec<f64>> {
        Ok(self
            .model
            .decisions(x)?
            .into_iter()
            .map(|z| 1.0 / (1.0 + (-z).exp()))
            .collect())
    }
}

/// Principal component analysis: the directions of largest variance, for models that suffer
/// from many correlated features (trees on pixels). Fitted by the eigendecomposition of the
/// p x p covariance matrix (faer), so meant for hundreds of features (30x30 block means: about
/// 0.3 s), not 22,500 pixels.
///
/// ```
/// use xray_lab::train::{Samples, linear::Pca};
/// // Points along the diagonal: one component carries all the variance.
/// let x = Samples::new(vec![0., 0., 1., 1., 2., 2., 3., 3.], 2, vec![0, 0, 1, 1])?;
/// let pca = Pca::fit(&x, 1)?;
/// let scores = pca.transform(&x)?;
/// assert!((scores.row(3)[0] - scores.row(0)[0]).abs() > 4.0);
/// # Ok::<(), xray_lab::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pca {
    /// Column means of the training features.
    pub mean: Vec<f64>,
    /// `k` unit vectors of `p` values, by decreasing variance.
    pub components: Vec<Vec<f64>>,
    /// The variance along each component.
    pub variance: Vec<f64>,
}

impl Pca {
    /// The first `k` principal components of `x`.
    pub fn fit(x: &Samples, k: usize) -> Result<Pca> {
        check_trainable(x, "PCA")?;
        let (n, p) = (x.rows(), x.cols());
        let k = k.clamp(1, p);
        let mean = column_means(x);
        let mut xc = vec![0f32; n * p];
        xc.par_chunks_mut(p).enumerate().for_each(|(i, out)| {
            for ((o, &v), &m) in out.iter_mut().zip(x.row(i)).zip(&mean) {
                *o = (v as f64 - m) as f32;
            }
        });
        let cov = gram_lower(MatRef::from_row_major_slice(&xc, n, p).transpose());
        let eigen = cov
            .self_adjoint_eigen(Side::Lower)
            .map_err(|e| Error::Fit {
                model: "PCA".into(),
                reason: format!("the eigendecomposition failed: {e:?}"),
            })?;
        let (values, vectors) = (eigen.S(), eigen.U());
        // Eigenvalues come in increasing order: take the last k, largest first, each vector's
        // sign fixed (largest entry positive) so that the same data gives the same components.
        let mut components = Vec::with_capacity(k);
        let mut variance = Vec::with_capacity(k);
        for c in (p - k..p).rev() {
            let mut v: Vec<f64> = (0..p).map(|r| vectors[(r, c)]).collect();
            let largest = v
                .iter()
                .copied()
                .fold(0.0f64, |a, b| if b.abs() > a.abs() { b } else { a });
            if largest < 0.0 {
                v.iter_mut().for_each(|x| *x = -*x);
            }
            components.push(v);
            variance.push(values[c] / (n.max(2) - 1) as f64);
        }
        Ok(Pca {
            mean,
            components,
            variance,
        })
    }

    /// The component scores of one row.
    pub fn project(&self, row: &[f32]) -> Vec<f32> {
        self.components
            .iter()
            .map(|c| {
                row.iter()
                    .zip(&self.mean)
                    .zip(c)
                    .map(|((&x, m), v)| (x as f64 - m) * v)
                    .sum::<f64>() as f32
            })
            .collect()
    }

    /// The component scores of every row of `x`.
    pub fn transform(&self, x: &Samples) -> Result<Samples> {
        if x.cols() != self.mean.len() {
            return Err(Error::ShapeMismatch {
                what: "PCA".into(),
                expected: format!("{} features per row, as it was fitted on", self.mean.len()),
                found: format!("the samples have {}", x.cols()),
            });
        }
        let values: Vec<f32> = (0..x.rows()).flat_map(|i| self.project(x.row(i))).collect();
        let mut out = Samples::new(values, self.components.len(), x.y.clone())?;
        out.paths = x.paths.clone();
        Ok(out)
    }
}
