//! A decision tree and a random forest for two classes, with class weights and probabilities.
//!
//! Written here rather than taken from smartcore (0.7) because what a fair comparison with the
//! linear models needs is missing there: its trees take no class or sample weights (the data is
//! three PNEUMONIA to one NORMAL), their `predict_proba` is one-hot (no ROC curve), and its
//! forest exposes only majority votes and fits its trees one after the other. This is the
//! textbook CART: Gini impurity with weights, splits searched over up to 64 quantile bins per
//! feature (histogram splitting, as LightGBM and scikit-learn's HistGradientBoosting do), leaves
//! that hold the weighted share of PNEUMONIA; the forest (Breiman) grows each tree on a
//! bootstrap sample with `√p` candidate features per split, in parallel, and averages the
//! leaves' shares.
//!
//! Trees see every feature at each split, so on 22,500 pixels they are slow and overfit; the
//! pipeline gives them pixels averaged in blocks (10x10 blocks: 15x15 = 225 features,
//! [`super::Samples::pooled`]). Measured on the full synthetic dataset (2,232 training images,
//! 2 cores), test ROC AUC of a tree / a 200-tree forest: 30x30 block means 0.69 / 0.85;
//! 15x15 0.75 / 0.87; 32 principal components of the 15x15 means ([`super::linear::Pca`],
//! 0.03 s more) 0.76 / 0.88; 16 components of 10x10 means (depth 6, 20 images a leaf: the
//! pipeline's tree) 0.80. A forest fits in under 0.2 s on any of them.
//!
//! One file per idea: the settings (params.rs), growing a tree (grow.rs), a fitted tree
//! (cart.rs), and the forest (forest.rs).

mod cart;
mod forest;
mod grow;
mod params;

pub use cart::DecisionTree;
pub use forest::RandomForest;
pub use params::{ForestParameters, TreeParameters};
