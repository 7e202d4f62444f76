//! Logistic regression: its settings and its fit (primal or dual, by L-BFGS).

use faer::linalg::triangular_solve;
use faer::{Mat, Par, Side};
use serde::{Deserialize, Serialize};

use super::algebra::{check_trainable, column_means, dot};
use super::model::LinearModel;
use super::objective::{minimise, DualLogLoss, LogLoss};
use super::ridge::Centred;
use crate::train::checked::Checked;
use crate::train::samples::Samples;
use crate::{Error, Result};

/// Settings of [`LogisticRegression`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticParameters {
    /// `λ` in `mean log-loss + λ/2 ‖w‖²`; `None`: `1/n`, which is scikit-learn's default `C = 1`.
    /// MLlib's `LogisticRegression(regParam = λ, standardization=False)` minimises the same
    /// objective (without class weights); with `standardization=True` it matches ours with
    /// `standardize` at `λ = regParam·n/(n-1)`, because MLlib divides each feature by its sample
    /// standard deviation and we by the population one. Both tested against Spark
    /// (`py/tests/test_mllib.py`).
    penalty: Option<f64>,
    /// Weight the classes inversely to their frequency (scikit-learn's `class_weight="balanced"`).
    balanced: bool,
    /// Divide each feature by its standard deviation (for features on different scales, such
    /// as file facts; pixels share one scale and need not).
    standardize: bool,
    /// L-BFGS iterations at most (scikit-learn's default is 100).
    max_iter: u64,
    /// Stop when the gradient's norm falls below this.
    tolerance: f64,
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
    pub fn check(&self) -> Result<Checked<LogisticParameters>> {
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
        Ok(Checked::accepted(self.clone()))
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
    /// Stop when the gradient's norm falls below `tolerance`.
    pub fn with_tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = tolerance;
        self
    }
    /// `λ`, when set (`None`: `1/n`).
    pub fn penalty(&self) -> Option<f64> {
        self.penalty
    }
    /// Whether the classes are weighted inversely to their frequency.
    pub fn balanced(&self) -> bool {
        self.balanced
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

impl LogisticRegression {
    /// Fit on `x` (labels 0/1), once `parameters` pass their check.
    pub fn fit(x: &Samples, parameters: &LogisticParameters) -> Result<LogisticRegression> {
        Self::fit_with(x, &parameters.check()?, None)
    }

    /// Fit on `x` with settings already checked.
    pub fn fit_checked(
        x: &Samples,
        parameters: &Checked<LogisticParameters>,
    ) -> Result<LogisticRegression> {
        Self::fit_with(x, parameters, None)
    }

    /// [`LogisticRegression::fit`], reusing `centred` (built by [`Centred::new`] from this same
    /// `x`) when the dual path runs, instead of centring `x` and building its Gram matrix again.
    /// A `centred` of another shape is ignored.
    pub(crate) fn fit_with(
        x: &Samples,
        parameters: &Checked<LogisticParameters>,
        centred: Option<&Centred>,
    ) -> Result<LogisticRegression> {
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
            inverse_deviations(x, &mean)
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
        let (theta, iterations) =
            minimise(&problem, start, parameters.tolerance, parameters.max_iter)?;
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
        let (theta, iterations) =
            minimise(&problem, start, parameters.tolerance, parameters.max_iter)?;
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

/// One over each column's (population) standard deviation, 1 for a constant column: what
/// `standardize` divides the features by.
fn inverse_deviations(x: &Samples, mean: &[f64]) -> Vec<f64> {
    let mut var = vec![0.0f64; x.cols()];
    for i in 0..x.rows() {
        for ((v, &x), m) in var.iter_mut().zip(x.row(i)).zip(mean) {
            *v += (x as f64 - m).powi(2);
        }
    }
    var.iter()
        .map(|v| {
            let sd = (v / x.rows() as f64).sqrt();
            if sd > 0.0 {
                1.0 / sd
            } else {
                1.0
            }
        })
        .collect()
}
