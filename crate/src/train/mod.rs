//! Train: the report's regularized linear regression and the classifiers it called for, fitted
//! on train, tuned on validation, judged on test.
//!
//! ```no_run
//! use xray_lab::prelude::*;
//! let dataset = load::scan(data_root()?)?;
//! let images = split::default_split(&dataset)?;                 // train / validation / test
//! let features = decode::features(&images, &DecodeOptions::new())?;
//! let evaluation = train::evaluate(&features, &TrainOptions::new())?;
//! println!("{}", evaluation.metrics_frame()?);                 // a row per model and subset
//! # Ok::<(), xray_lab::Error>(())
//! ```
//!
//! The models, each in [`Evaluation::models`]:
//!
//! | model | reads | how imbalance is handled | cost at n = 2,800, 150x150 (2 cores) |
//! |---|---|---|---|
//! | linear regression (the report's) | 22,500 pixels | threshold chosen on validation | about 2 s: Gram matrix once, one Cholesky solve per penalty |
//! | logistic regression | 22,500 pixels | balanced class weights | a few seconds: 100 L-BFGS steps, each one pass over X |
//! | decision tree | 16 principal components of 10x10 block means | balanced class weights | milliseconds |
//! | random forest (200 trees) | 15x15 block means | balanced class weights | about 0.2 s |
//! | shortcut checks | file facts: size, width, height, aspect, channels, and the header's acquisition facts ([`FACTS`]) | as above | milliseconds |
//!
//! Every model scores each image (a probability of PNEUMONIA; the linear regression's raw
//! output), and every model's threshold is chosen on validation to maximise balanced accuracy
//! (recall + specificity), so a 3-to-1 class ratio cannot buy accuracy by predicting PNEUMONIA
//! for everyone. The forest reads 15x15 block means (10x10 pixels averaged: 225 features), the
//! single tree 16 principal components of 10x10 block means, instead of the 22,500 pixels: a tree tries every feature at every split, so pixels cost 100 times more
//! time for splits on single noisy pixels (see [`tree`] for what each choice scores).
//!
//! The shortcut checks fit the same classifiers on facts that are not pixels. On the real
//! Kaggle data the classes differ in acquisition (PNEUMONIA files are smaller and wider), so a
//! high score there warns that a pixel model may be reading the scanner, not the lungs.

mod checked;
mod evaluate;
mod evaluation;
mod kind;
pub mod linear;
pub mod metrics;
mod model;
mod options;
mod samples;
mod studies;
pub mod toolbox;
pub mod tree;

pub use checked::Checked;
pub use evaluate::evaluate;
pub use evaluation::{Evaluation, Scored};
pub use kind::ModelKind;
pub use model::{Estimator, Input, Model, FACTS_FEATURES};
pub use options::{CheckedTrainOptions, TrainOptions};
pub use samples::{Samples, FACTS};
pub use studies::{class_weights_compared, projection, MAX_PROJECTED};

pub(crate) use samples::pool_row;
