//! Ridge regression, the report's model: the dual or primal normal equations, factored once.

use faer::linalg::solvers::Solve;
use faer::{Mat, MatRef, Side};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::algebra::{check_trainable, column_means, dot, gram_lower};
use super::mllib::{mllib_reg_param, MllibSolver};
use super::model::LinearModel;
use crate::error::PolarsContext;
use crate::train::samples::Samples;
use crate::{Error, Result};

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
    pub(super) mean: Vec<f64>,
    /// Mean of y.
    pub(super) y_mean: f64,
    /// Centred X, row-major, f32 (n x p).
    pub(super) xc: Vec<f32>,
    pub(super) rows: usize,
    pub(super) cols: usize,
    /// Dual (K = Xc Xcᵀ, n x n) when p > n, else primal (Xcᵀ Xc, p x p); lower half filled, f64.
    pub(super) gram: Mat<f64>,
    /// Right-hand side: yc for the dual, Xcᵀ yc for the primal.
    pub(super) rhs: Vec<f64>,
    pub(super) dual: bool,
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
    pub(super) fn primal_weights(&self, c: &[f64]) -> Vec<f64> {
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
    pub(super) fn scale(&self) -> f64 {
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
            rmse: crate::train::metrics::rmse(&predictions, x.y()),
            r2: crate::train::metrics::r2(&predictions, x.y()),
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
            let error = crate::train::metrics::rmse(&model.predict(validation)?, &validation.y);
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
