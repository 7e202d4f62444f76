//! The log-loss objectives logistic regression minimises, and the L-BFGS run over them.

use std::sync::Mutex;

use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use rayon::prelude::*;

use super::algebra::dot;
use crate::train::samples::Samples;
use crate::{Error, Result};

/// A smooth objective: its value and gradient at `theta`, from one pass over the data.
pub(super) trait Objective {
    fn evaluate(&self, theta: &[f64]) -> (f64, Vec<f64>);
}

/// An objective as argmin wants it, keeping the last evaluation (parameters, cost, gradient) so
/// that argmin's separate cost and gradient calls at the same point share one pass.
pub(super) struct Memoised<'a, T> {
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
pub(super) struct LogLoss<'a> {
    pub(super) x: &'a Samples,
    pub(super) mean: Vec<f64>,
    pub(super) inv_scale: Vec<f64>,
    pub(super) weight: [f64; 2],
    pub(super) total_weight: f64,
    pub(super) penalty: f64,
}

pub(super) const CHUNK: usize = 128;

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
pub(super) struct DualLogLoss<'a> {
    /// Row i holds `L[i][0..=i]`.
    pub(super) lower: Vec<Vec<f32>>,
    pub(super) u: Vec<f64>,
    pub(super) c: f64,
    pub(super) y: &'a [u32],
    pub(super) weight: [f64; 2],
    pub(super) total_weight: f64,
    pub(super) penalty: f64,
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
pub(super) fn minimise<P: Objective>(
    objective: &P,
    start: Vec<f64>,
    tolerance: f64,
    max_iter: u64,
) -> Result<(Vec<f64>, u64)> {
    let problem = Memoised {
        objective,
        last: Mutex::new(None),
    };
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(tolerance)
        .and_then(|s| s.with_tolerance_cost(1e-12))
        .map_err(|e| Error::Fit {
            model: "logistic regression".into(),
            reason: format!("L-BFGS settings: {e}"),
        })?;
    let result = Executor::new(problem, solver)
        .configure(|state| state.param(start.clone()).max_iters(max_iter))
        .run()
        .map_err(|e| Error::Fit {
            model: "logistic regression".into(),
            reason: format!("L-BFGS failed: {e}"),
        })?;
    let state = result.state();
    let theta = state.get_best_param().cloned().unwrap_or(start);
    Ok((theta, state.get_iter()))
}
