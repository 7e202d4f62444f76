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
//!
//! One file per idea: [`LinearModel`] (model.rs), the shared sums (algebra.rs), ridge
//! regression (ridge.rs), MLlib's units (mllib.rs), logistic regression's settings and fit
//! (logistic.rs) and the objectives it minimises (objective.rs), and [`Pca`] (pca.rs).

mod algebra;
mod logistic;
mod mllib;
mod model;
mod objective;
mod pca;
mod ridge;

pub use logistic::{LogisticParameters, LogisticRegression};
pub use mllib::{mllib_reg_param, ridge_alpha_of_mllib, MllibSolver};
pub use model::LinearModel;
pub use pca::Pca;
pub use ridge::{penalty_table, RegressionScore, RidgeRegression};

pub(crate) use ridge::Centred;
