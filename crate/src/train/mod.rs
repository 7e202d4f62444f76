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

mod kind;
pub mod linear;
pub mod metrics;
pub mod toolbox;
pub mod tree;

pub use kind::ModelKind;

use std::path::Path;
use std::time::Instant;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::decode::{DecodeOptions, Features};
use crate::error::PolarsContext;
use crate::subset::Subset;
use crate::{frame, Error, Result};
use linear::{LogisticParameters, LogisticRegression, RidgeRegression};
use metrics::{Metrics, RocPoint};
use tree::{DecisionTree, ForestParameters, RandomForest, TreeParameters};

/// Rows of features with their 0/1 labels: what a model is fitted on or scores.
#[derive(Debug, Clone, PartialEq)]
pub struct Samples {
    x: Vec<f32>,
    cols: usize,
    y: Vec<u32>,
    paths: Vec<String>,
}

impl Samples {
    /// Rows from a row-major matrix with `cols` values per row.
    pub fn new(x: Vec<f32>, cols: usize, y: Vec<u32>) -> Result<Samples> {
        if cols == 0 || x.len() != cols * y.len() {
            return Err(Error::InvalidInput(format!(
                "samples: {} values do not make {} rows of {cols}",
                x.len(),
                y.len()
            )));
        }
        if let Some(bad) = y.iter().find(|&&v| v > 1) {
            return Err(Error::InvalidInput(format!(
                "samples: labels must be 0 or 1 (two classes), found {bad}"
            )));
        }
        Ok(Samples {
            x,
            cols,
            y,
            paths: Vec::new(),
        })
    }

    /// The rows of `features` whose `subset` column (or, when there is none, `split`) is
    /// `subset`, in their order.
    pub fn from_features(features: &Features, subset: impl Into<Subset>) -> Result<Samples> {
        let rows = subset_rows(features.images(), &subset.into())?;
        let cols = features.cols();
        let mut x = Vec::with_capacity(rows.len() * cols);
        for &i in &rows {
            x.extend_from_slice(features.row(i));
        }
        let paths = crate::frame::strings(features.images(), "path")?;
        let mut samples = Samples::new(
            x,
            cols,
            rows.iter().map(|&i| features.labels()[i]).collect(),
        )?;
        samples.paths = rows.iter().map(|&i| paths[i].clone()).collect();
        Ok(samples)
    }

    /// File facts that are not pixels, for the shortcut check ([`FACTS`]: file size, width,
    /// height, aspect ratio, channels, and the acquisition facts of the JPEG header), of the rows
    /// of `features` in `subset`. Read from the file headers (cached), not decoded.
    pub fn facts_of(features: &Features, subset: impl Into<Subset>) -> Result<Samples> {
        let mut each = Self::facts_of_each(features, &[subset.into()])?;
        Ok(each.remove(0))
    }

    /// [`Samples::facts_of`] for several subsets, with one pass over the facts cache (which
    /// is one JSON file for every dataset seen, so opening it costs a parse).
    pub(crate) fn facts_of_each(features: &Features, subsets: &[Subset]) -> Result<Vec<Samples>> {
        let all = crate::frame::strings(features.images(), "path")?;
        let rows: Vec<Vec<usize>> = subsets
            .iter()
            .map(|s| subset_rows(features.images(), s))
            .collect::<Result<_>>()?;
        let wanted: Vec<String> = rows.iter().flatten().map(|&i| all[i].clone()).collect();
        let mut facts = wanted
            .iter()
            .zip(crate::facts::facts_cached(
                &wanted,
                &features.options().cache_folder(),
            ))
            .map(|(path, (stamp, facts))| file_facts(Path::new(path), stamp, facts));
        let mut paths = wanted.iter().cloned();
        rows.iter()
            .map(|rows| {
                let mut x = Vec::with_capacity(rows.len() * FACTS.len());
                for row in facts.by_ref().take(rows.len()) {
                    x.extend(row?);
                }
                let mut samples = Samples::new(
                    x,
                    FACTS.len(),
                    rows.iter().map(|&i| features.labels()[i]).collect(),
                )?;
                samples.paths = paths.by_ref().take(rows.len()).collect();
                Ok(samples)
            })
            .collect()
    }

    /// The label of each row: 0 NORMAL, 1 PNEUMONIA.
    pub fn y(&self) -> &[u32] {
        &self.y
    }
    /// The file of each row, when known.
    pub fn paths(&self) -> &[String] {
        &self.paths
    }

    /// How many rows.
    pub fn rows(&self) -> usize {
        self.y.len()
    }

    /// Values per row.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.cols..(i + 1) * self.cols]
    }

    /// Square images (`side x side` per row) averaged over `factor x factor` blocks: 150x150
    /// with factor 5 gives 30x30. Pixels past the last whole block are dropped.
    pub fn pooled(&self, factor: usize) -> Result<Samples> {
        let side = (self.cols as f64).sqrt().round() as usize;
        if side * side != self.cols || factor == 0 || factor > side {
            return Err(Error::InvalidInput(format!(
                "pooling needs square images of at least {factor} pixels a side; rows have {} values",
                self.cols
            )));
        }
        let x: Vec<f32> = (0..self.rows())
            .flat_map(|i| pool_row(self.row(i), side, factor))
            .collect();
        let out = side / factor;
        Ok(Samples {
            x,
            cols: out * out,
            y: self.y.clone(),
            paths: self.paths.clone(),
        })
    }
}

/// The names of the shortcut facts, in [`Samples::facts_of`]'s column order: the file's size in
/// kB, its width, height, aspect (width / height) and channels, then what its JPEG header says
/// ([`crate::facts::JpegMarkers`]): progressive, EXIF and ICC present (1 or 0), the JFIF density
/// in dpi (0 without a unit or a JFIF header), chroma subsampled (1 for 4:2:0, 4:2:2, ...; 0 for
/// gray or 4:4:4) and the estimated quality. A file that is not a JPEG has 0 for each of these.
pub const FACTS: [&str; 11] = [
    "file kB",
    "width",
    "height",
    "aspect",
    "channels",
    "progressive",
    "EXIF",
    "ICC",
    "JFIF dpi",
    "chroma subsampled",
    "quality",
];

/// One row of [`FACTS`] from a file's stamp and header facts; a file that cannot be read or
/// whose header cannot be parsed is an error that names it.
fn file_facts(
    path: &Path,
    stamp: Option<crate::files::Stamp>,
    facts: std::result::Result<crate::facts::ImageFacts, crate::facts::RejectReason>,
) -> Result<[f32; FACTS.len()]> {
    let bytes = match stamp {
        Some(stamp) => stamp.bytes,
        None => std::fs::metadata(path)
            .map_err(|e| Error::io(path, e))?
            .len(),
    };
    let facts = facts.map_err(|reason| Error::Decode {
        path: path.to_path_buf(),
        reason,
    })?;
    let flag = |yes: bool| if yes { 1.0 } else { 0.0 };
    let jpeg = facts.jpeg.clone().unwrap_or_default();
    Ok([
        bytes as f32 / 1000.0,
        facts.width as f32,
        facts.height as f32,
        facts.width as f32 / facts.height.max(1) as f32,
        facts.channels as f32,
        flag(facts.progressive == Some(true)),
        flag(jpeg.exif),
        flag(jpeg.icc),
        jpeg.jfif.and_then(|d| d.dpi()).unwrap_or(0.0) as f32,
        flag(matches!(jpeg.chroma.as_deref(), Some(c) if c != "gray" && c != "4:4:4")),
        jpeg.quality.unwrap_or(0.0) as f32,
    ])
}

pub(crate) fn pool_row(row: &[f32], side: usize, factor: usize) -> Vec<f32> {
    let out = side / factor;
    let mut pooled = vec![0f32; out * out];
    let scale = 1.0 / (factor * factor) as f32;
    for (by, chunk) in pooled.chunks_mut(out).enumerate() {
        for (bx, v) in chunk.iter_mut().enumerate() {
            let mut sum = 0.0;
            for y in by * factor..(by + 1) * factor {
                sum += row[y * side + bx * factor..y * side + (bx + 1) * factor]
                    .iter()
                    .sum::<f32>();
            }
            *v = sum * scale;
        }
    }
    pooled
}

fn subset_rows(images: &DataFrame, subset: &Subset) -> Result<Vec<usize>> {
    let column = crate::subset::column_of(images, "choosing a subset's rows")?;
    Ok(crate::frame::strings(images, column)?
        .iter()
        .enumerate()
        .filter(|(_, s)| subset == s.as_str())
        .map(|(i, _)| i)
        .collect())
}

/// What a model reads from an image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Input {
    /// The decoded grayscale pixels (22,500 at 150x150).
    Pixels,
    /// Pixels averaged over `factor x factor` blocks.
    Pooled {
        /// The block side.
        factor: usize,
    },
    /// Pixels averaged over `factor x factor` blocks, then projected on principal components.
    Components {
        /// The block side.
        factor: usize,
        /// The projection, fitted on the training images.
        pca: linear::Pca,
    },
    /// File facts from the header ([`FACTS`]): the shortcut check.
    Facts,
    /// A pretrained network's embedding of the image (`decode::embeddings`, cargo feature
    /// `pretrained`).
    Embedding {
        /// The network's name, e.g. `efficientnet-lite0`.
        network: String,
    },
    /// Nothing: the majority-class baseline reads no feature.
    Nothing,
}

/// What the shortcut models read, as the `features` column of every table names it.
pub const FACTS_FEATURES: &str = "file facts";

impl Input {
    fn describe(&self, decode: &DecodeOptions) -> String {
        let side = decode.side() as usize;
        match self {
            Input::Pixels => format!("{side}x{side} pixels"),
            Input::Pooled { factor } => {
                let s = side / factor;
                format!("{s}x{s} block means")
            }
            Input::Components { factor, pca } => {
                let s = side / factor;
                format!("{} components of {s}x{s} block means", pca.components.len())
            }
            Input::Facts => FACTS_FEATURES.into(),
            Input::Embedding { network } => match embedding_size(network) {
                Some(size) => format!("{network} embeddings ({size})"),
                None => format!("{network} embeddings"),
            },
            Input::Nothing => "none (the training share)".into(),
        }
    }
}

/// A fitted estimator, one of the kinds this module trains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Estimator {
    /// The majority-class baseline: every score is the training share of PNEUMONIA.
    Majority {
        /// The share of PNEUMONIA among the training images.
        share: f64,
    },
    /// Regularized linear regression (the report's model); scores are its raw outputs.
    Ridge(RidgeRegression),
    /// Logistic regression; scores are probabilities.
    Logistic(LogisticRegression),
    /// A decision tree; scores are leaf shares of PNEUMONIA.
    Tree(DecisionTree),
    /// A random forest; scores are mean leaf shares.
    Forest(RandomForest),
}

impl Estimator {
    /// The score of every row (higher: more PNEUMONIA).
    pub fn scores(&self, x: &Samples) -> Result<Vec<f64>> {
        match self {
            Estimator::Majority { share } => Ok(vec![*share; x.rows()]),
            Estimator::Ridge(m) => m.predict(x),
            Estimator::Logistic(m) => m.predict_proba(x),
            Estimator::Tree(m) => m.predict_proba(x),
            Estimator::Forest(m) => m.predict_proba(x),
        }
    }

    /// The constant term, for the linear models.
    pub fn intercept(&self) -> Option<f64> {
        match self {
            Estimator::Ridge(m) => Some(m.model.intercept),
            Estimator::Logistic(m) => Some(m.model.intercept),
            _ => None,
        }
    }

    /// The linear weights, for the linear models.
    pub fn weights(&self) -> Option<&[f64]> {
        match self {
            Estimator::Ridge(m) => Some(&m.model.weights),
            Estimator::Logistic(m) => Some(&m.model.weights),
            _ => None,
        }
    }
}

/// A trained model with everything needed to use it later: what it reads, the decode settings
/// it was trained with, and its threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// Which model it is (saved as its name, `"name"` in the model file).
    #[serde(rename = "name")]
    pub kind: ModelKind,
    /// The fitted estimator.
    pub estimator: Estimator,
    /// What it reads.
    pub input: Input,
    /// The decode settings of its training features; predicting with others is refused.
    pub decode: DecodeOptions,
    /// Predict PNEUMONIA at or above this score (chosen on validation).
    pub threshold: f64,
    /// Seconds its fit took.
    pub fit_seconds: f64,
}

impl Model {
    /// Scores of samples already in this model's input form (pixels, pooled, or facts).
    pub fn scores(&self, x: &Samples) -> Result<Vec<f64>> {
        self.estimator.scores(x)
    }

    /// Scores of decoded features, which must have been decoded with this model's settings.
    pub fn scores_of(&self, features: &Features, subset: impl Into<Subset>) -> Result<Vec<f64>> {
        let subset = subset.into();
        match (&self.input, features.network()) {
            (Input::Embedding { network }, Some(given)) if network == given => {}
            (Input::Embedding { network }, _) => {
                return Err(Error::InvalidInput(format!(
                "model {:?} reads {network} embeddings: give it decode::embeddings of the images",
                self.kind.name()
            )))
            }
            _ => require_pixels(features, "Model::scores_of")?,
        }
        self.check_decode(features.options())?;
        let x = match &self.input {
            Input::Pixels => Samples::from_features(features, subset)?,
            Input::Pooled { factor } => {
                Samples::from_features(features, subset)?.pooled(*factor)?
            }
            Input::Components { factor, pca } => {
                pca.transform(&Samples::from_features(features, subset)?.pooled(*factor)?)?
            }
            Input::Facts => Samples::facts_of(features, subset)?,
            Input::Embedding { .. } => Samples::from_features(features, subset)?,
            // The baseline needs only the row count.
            Input::Nothing => Samples::from_features(features, subset)?,
        };
        self.scores(&x)
    }

    fn check_decode(&self, options: &DecodeOptions) -> Result<()> {
        if options.key() != self.decode.key() {
            return Err(Error::InvalidInput(format!(
                "model {:?} was trained on features decoded as {} but was given features decoded as {}: decode with the model's settings (model.decode)",
                self.kind.name(),
                self.decode.key(),
                options.key()
            )));
        }
        Ok(())
    }

    /// The probability of PNEUMONIA for one image file, decoded with the model's own settings.
    /// The linear regression's output is clipped to [0, 1] (it is not a probability, only a
    /// score on that scale).
    pub fn predict_file(&self, path: impl AsRef<Path>) -> Result<f64> {
        let path = path.as_ref();
        let row: Vec<f32> = match &self.input {
            Input::Facts => file_facts(
                path,
                crate::files::Stamp::of(path),
                crate::facts::read_facts(path),
            )?
            .to_vec(),
            // The baseline reads nothing; one placeholder value stands for the file.
            Input::Nothing => vec![0.0],
            Input::Embedding { network } => self.embed_file(path, network)?,
            input => {
                let gray = crate::decode::decode_file(path, &self.decode)?;
                let pixels: Vec<f32> = gray.as_raw().iter().map(|&v| v as f32 / 255.0).collect();
                let side = self.decode.side() as usize;
                match input {
                    Input::Pooled { factor } => pool_row(&pixels, side, *factor),
                    Input::Components { factor, pca } => {
                        pca.project(&pool_row(&pixels, side, *factor))
                    }
                    _ => pixels,
                }
            }
        };
        let cols = row.len();
        let x = Samples::new(row, cols, vec![0])?;
        let score = self.scores(&x)?[0];
        Ok(score.clamp(0.0, 1.0))
    }

    /// A file's embedding by the network the model reads, decoded with the model's settings.
    #[cfg(feature = "pretrained")]
    fn embed_file(&self, path: &Path, _network: &str) -> Result<Vec<f32>> {
        let gray = crate::decode::decode_file(path, &self.decode)?;
        let network = crate::pretrained::Network::shared()?;
        Ok(network.run(&network.input_from_gray(&gray)).embedding)
    }

    /// Without the network in this build, a model that reads embeddings cannot predict.
    #[cfg(not(feature = "pretrained"))]
    fn embed_file(&self, _path: &Path, network: &str) -> Result<Vec<f32>> {
        Err(Error::FeatureOff {
            feature: "pretrained",
            what: format!(
                "model {:?} (it reads {network} embeddings)",
                self.kind.name()
            ),
        })
    }

    /// Predict PNEUMONIA for one image file (its probability at or above the threshold).
    pub fn is_pneumonia(&self, path: impl AsRef<Path>) -> Result<bool> {
        let threshold = self.threshold.clamp(0.0, 1.0);
        Ok(self.predict_file(path)? >= threshold)
    }

    /// Write the model as JSON.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let json = serde_json::to_vec(self).map_err(|e| Error::Format {
            path: path.to_path_buf(),
            reason: format!("cannot serialise the model: {e}"),
        })?;
        crate::files::write_atomically(path, &json)
    }

    /// Read a model written by [`Model::save`].
    pub fn load(path: impl AsRef<Path>) -> Result<Model> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Format {
            path: path.to_path_buf(),
            reason: format!("not an xray-lab model: {e}"),
        })
    }

    /// A file name for the model: its name in lower case, words joined by `_`.
    pub fn file_stem(&self) -> String {
        self.kind.file_stem()
    }
}

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

/// Every model's metrics on one subset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    /// The model.
    pub model: ModelKind,
    /// What it read.
    pub features: String,
    /// The subset scored.
    pub subset: Subset,
    /// Its metrics there.
    pub metrics: Metrics,
    /// The ROC curve there.
    pub roc: Vec<RocPoint>,
    /// Each image's score and label, for score histograms.
    pub scores: Vec<(f64, u32)>,
    /// Each image's path, in the order of `scores` (not saved: a subset of the scores, such as
    /// the matched test of [`crate::shortcut`], is chosen by path).
    #[serde(skip)]
    pub paths: Vec<String>,
}

/// The result of [`evaluate`]: the models and their scores on every subset.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The trained models, in the order of the table.
    pub models: Vec<Model>,
    /// One entry per model and subset.
    pub results: Vec<Scored>,
    /// The report's model's penalty search: `(alpha, validation RMSE)`.
    pub ridge_path: Vec<(f64, f64)>,
    /// Images per subset used: train, validation, test.
    pub sizes: [usize; 3],
    /// The subsets those are: train, validation, test.
    pub subsets: [Subset; 3],
    /// Seconds the whole evaluation took.
    pub seconds: f64,
}

/// The models here read pixels: the trees pool them into blocks, the linear models' weights
/// draw as an image, a saved model decodes a new file to pixels. Embeddings
/// (`decode::embeddings`) are refused with the way to train on them instead.
pub(crate) fn require_pixels(features: &Features, what: &str) -> Result<()> {
    match features.network() {
        None => Ok(()),
        Some(network) => Err(Error::InvalidInput(format!(
            "{what} takes pixel features (decode::features); these are {network} embeddings: fit \
             a model on them through Samples::from_features (LogisticRegression::fit, \
             RidgeRegression::fit_path, RandomForest::fit)"
        ))),
    }
}

/// Fit every model on the train subset of `features`, choose penalties and thresholds on
/// validation, and score train, validation and test.
///
/// Fails with a clear error when a subset is missing or holds one class only.
pub fn evaluate(features: &Features, options: &TrainOptions) -> Result<Evaluation> {
    require_pixels(features, "train::evaluate")?;
    options.check()?;
    let start = Instant::now();
    let names = [&options.train, &options.validation, &options.test];
    let pixels = pixel_samples(features, names)?;
    let mut scorer = Scorer {
        names,
        decode: features.options().clone(),
        models: Vec::new(),
        results: Vec::new(),
    };
    fit_majority(&pixels, &mut scorer)?;
    let ridge_path = fit_linear(&pixels, options, &mut scorer)?;
    fit_trees(pixels, options, &mut scorer)?;
    if options.shortcut {
        fit_shortcuts(features, names, options, &mut scorer)?;
    }
    let sizes = [0, 1, 2].map(|k| {
        subset_rows(features.images(), names[k])
            .map(|r| r.len())
            .unwrap_or(0)
    });
    Ok(Evaluation {
        models: scorer.models,
        results: scorer.results,
        ridge_path,
        sizes,
        subsets: names.map(Subset::clone),
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The pixels of train, validation and test; an error when one lacks a class.
fn pixel_samples(features: &Features, names: [&Subset; 3]) -> Result<Vec<Samples>> {
    let pixels: Vec<Samples> = names
        .iter()
        .map(|s| Samples::from_features(features, (*s).clone()))
        .collect::<Result<_>>()?;
    for (samples, name) in pixels.iter().zip(names) {
        let positives = samples.y.iter().filter(|&&y| y == 1).count();
        if positives == 0 || positives == samples.rows() {
            return Err(Error::InvalidInput(format!(
                "subset {name:?} has {} images of {} class(es): training and evaluation need both classes in train, validation and test (resplit with split::resplit)",
                samples.rows(),
                if samples.rows() == 0 { 0 } else { 1 }
            )));
        }
    }
    Ok(pixels)
}

/// Scores each fitted model on train, validation and test, chooses its threshold on
/// validation, and keeps the model and its results.
struct Scorer<'a> {
    names: [&'a Subset; 3],
    decode: DecodeOptions,
    models: Vec<Model>,
    results: Vec<Scored>,
}

impl Scorer<'_> {
    fn add(
        &mut self,
        kind: ModelKind,
        estimator: Estimator,
        input: Input,
        data: &[Samples],
        fit_seconds: f64,
    ) -> Result<()> {
        let scores: Vec<Vec<f64>> = data
            .iter()
            .map(|x| estimator.scores(x))
            .collect::<Result<_>>()?;
        let threshold = metrics::best_threshold(&scores[1], &data[1].y);
        for ((x, s), subset) in data.iter().zip(&scores).zip(self.names) {
            self.results.push(Scored {
                model: kind,
                features: input.describe(&self.decode),
                subset: subset.clone(),
                metrics: Metrics::new(s, &x.y, threshold),
                roc: metrics::roc_curve(s, &x.y),
                scores: s.iter().copied().zip(x.y.iter().copied()).collect(),
                paths: x.paths.clone(),
            });
        }
        self.models.push(Model {
            kind,
            estimator,
            input,
            decode: self.decode.clone(),
            threshold,
            fit_seconds,
        });
        Ok(())
    }
}

/// Logistic regression on the pixels fitted twice, with class weights (the default:
/// `class_weight="balanced"`) and without, each judged on test at the plain 0.5 threshold and at
/// its threshold chosen on validation. One row each: `class weights`, `threshold rule`,
/// `threshold`, `accuracy`, `recall`, `specificity`, `roc_auc`. Shows what the weights do on
/// imbalanced classes: without them the 0.5 threshold leans to the majority class; a threshold
/// chosen on validation corrects most of that; ROC AUC, which ignores the threshold, barely moves.
pub fn class_weights_compared(features: &Features, options: &TrainOptions) -> Result<DataFrame> {
    require_pixels(features, "train::class_weights_compared")?;
    options.check()?;
    let names = [&options.train, &options.validation, &options.test];
    let pixels = pixel_samples(features, names)?;
    let mut rows: Vec<(&str, &str, f64, Metrics)> = Vec::new();
    for (weights, balanced) in [("balanced", true), ("none", false)] {
        let parameters = options.logistic.clone().with_balanced(balanced);
        let model = LogisticRegression::fit(&pixels[0], &parameters)?;
        let validation = model.predict_proba(&pixels[1])?;
        let test = model.predict_proba(&pixels[2])?;
        let chosen = metrics::best_threshold(&validation, pixels[1].y());
        for (rule, threshold) in [("0.5", 0.5), ("chosen on validation", chosen)] {
            rows.push((
                weights,
                rule,
                threshold,
                Metrics::new(&test, pixels[2].y(), threshold),
            ));
        }
    }
    let f = |g: &dyn Fn(&Metrics) -> f64| rows.iter().map(|r| g(&r.3)).collect::<Vec<f64>>();
    let df = df!(
        "class weights" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        "threshold rule" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        "threshold" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        "accuracy" => f(&|m| m.accuracy),
        "recall" => f(&|m| m.recall),
        "specificity" => f(&|m| m.specificity),
        "roc_auc" => f(&|m| m.roc_auc),
    )
    .ctx("building the class-weight table")?;
    Ok(frame::fresh(&df))
}

/// The table [`Evaluation::table`] and [`toolbox::compare`] share: one row per `(model,
/// features, metrics, fit seconds)`, the columns a reader compares models by.
pub(crate) fn comparison_table<'a>(
    rows: impl Iterator<Item = (&'a str, &'a str, &'a Metrics, f64)>,
) -> Result<DataFrame> {
    let rows: Vec<_> = rows.collect();
    let f = |g: &dyn Fn(&Metrics) -> f64| rows.iter().map(|r| g(r.2)).collect::<Vec<f64>>();
    let df = df!(
        "model" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        "features" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        "accuracy" => f(&|m| m.accuracy),
        "precision" => f(&|m| m.precision),
        "recall" => f(&|m| m.recall),
        "specificity" => f(&|m| m.specificity),
        "f1" => f(&|m| m.f1),
        "roc_auc" => f(&|m| m.roc_auc),
        "rmse" => f(&|m| m.rmse),
        "fit_seconds" => rows.iter().map(|r| r.3).collect::<Vec<f64>>(),
    )
    .ctx("building the metrics table")?;
    Ok(frame::fresh(&df))
}

/// The majority-class baseline: the training share of PNEUMONIA as every image's score. Its
/// threshold (chosen on validation like every model's) calls every image PNEUMONIA, so it
/// scores the majority's share as accuracy, recall 1, specificity 0 and ROC AUC 0.5: the row
/// that shows what accuracy alone is worth on imbalanced classes.
fn fit_majority(pixels: &[Samples], scorer: &mut Scorer) -> Result<()> {
    let t = Instant::now();
    let y = pixels[0].y();
    let share = y.iter().filter(|&&v| v == 1).count() as f64 / y.len().max(1) as f64;
    scorer.add(
        ModelKind::MajorityClass,
        Estimator::Majority { share },
        Input::Nothing,
        pixels,
        t.elapsed().as_secs_f64(),
    )
}

/// The report's linear regression (its penalty chosen on validation) and logistic regression,
/// both on the pixels. Returns the penalty search.
fn fit_linear(
    pixels: &[Samples],
    options: &TrainOptions,
    scorer: &mut Scorer,
) -> Result<Vec<(f64, f64)>> {
    // Both linear models start from the same centred pixels and Gram matrix (about 0.5 s and
    // 250 MB at full scale), so it is built once; its time counts in the first model's fit.
    let t = Instant::now();
    let centred = linear::Centred::new(&pixels[0])?;
    let (ridge, path) =
        RidgeRegression::fit_path_centred(&centred, &pixels[1], &options.ridge_penalties)?;
    scorer.add(
        ModelKind::LinearRegression,
        Estimator::Ridge(ridge),
        Input::Pixels,
        pixels,
        t.elapsed().as_secs_f64(),
    )?;
    let t = Instant::now();
    let logistic = LogisticRegression::fit_with(&pixels[0], &options.logistic, Some(&centred))?;
    drop(centred);
    scorer.add(
        ModelKind::LogisticRegression,
        Estimator::Logistic(logistic),
        Input::Pixels,
        pixels,
        t.elapsed().as_secs_f64(),
    )?;
    Ok(path)
}

/// The decision tree (principal components of coarse block means) and the random forest
/// (block means). Takes the pixels to free them once the block means are made.
fn fit_trees(pixels: Vec<Samples>, options: &TrainOptions, scorer: &mut Scorer) -> Result<()> {
    // Block means come from the pixel rows already gathered, not from a second copy of them.
    let pooled: Vec<Samples> = pixels
        .iter()
        .map(|x| x.pooled(options.pool))
        .collect::<Result<_>>()?;
    let coarse: Vec<Samples> = pixels
        .iter()
        .map(|x| x.pooled(options.tree_pool))
        .collect::<Result<_>>()?;
    drop(pixels);

    // The single tree reads principal components of coarser blocks: one tree cannot average
    // out pixel noise as a forest does, and on the full synthetic dataset these lift its test
    // ROC AUC from 0.75 (15x15 block means) to 0.80.
    let t = Instant::now();
    let pca = linear::Pca::fit(&coarse[0], options.tree_components)?;
    let projected: Vec<Samples> = coarse
        .iter()
        .map(|x| pca.transform(x))
        .collect::<Result<_>>()?;
    let tree = DecisionTree::fit(&projected[0], &options.tree)?;
    scorer.add(
        ModelKind::DecisionTree,
        Estimator::Tree(tree),
        Input::Components {
            factor: options.tree_pool,
            pca,
        },
        &projected,
        t.elapsed().as_secs_f64(),
    )?;
    let t = Instant::now();
    let forest = RandomForest::fit(&pooled[0], &options.forest)?;
    scorer.add(
        ModelKind::RandomForest,
        Estimator::Forest(forest),
        Input::Pooled {
            factor: options.pool,
        },
        &pooled,
        t.elapsed().as_secs_f64(),
    )
}

/// The shortcut checks: logistic regression and a forest on file facts, not pixels.
fn fit_shortcuts(
    features: &Features,
    names: [&Subset; 3],
    options: &TrainOptions,
    scorer: &mut Scorer,
) -> Result<()> {
    let facts = Samples::facts_of_each(features, &names.map(Subset::clone))?;
    let t = Instant::now();
    let logistic = LogisticRegression::fit(
        &facts[0],
        &options
            .logistic
            .clone()
            .with_standardize(true)
            .with_penalty(1e-3),
    )?;
    scorer.add(
        ModelKind::ShortcutLogistic,
        Estimator::Logistic(logistic),
        Input::Facts,
        &facts,
        t.elapsed().as_secs_f64(),
    )?;
    let t = Instant::now();
    let forest = RandomForest::fit(&facts[0], &options.forest)?;
    scorer.add(
        ModelKind::ShortcutForest,
        Estimator::Forest(forest),
        Input::Facts,
        &facts,
        t.elapsed().as_secs_f64(),
    )
}

/// The most values per image [`projection`] takes: 64x64 pixels.
pub const MAX_PROJECTED: usize = 4096;

/// A 2-D view of high-dimensional rows (pixels or embeddings): the first two principal
/// components, fitted on the images of `fit_on` and computed for every image of `features`.
/// Returns `path`, `class`, the subset column and `pc1`, `pc2`, for
/// [`crate::plot::scatter_by_class`]. Images of one class that sit together here are what a
/// linear model finds easy to separate.
pub fn projection(features: &Features, fit_on: impl Into<Subset>) -> Result<DataFrame> {
    // The PCA works on the p x p covariance: fine for embeddings (1,280) and small pixel
    // images, minutes and gigabytes for 150x150 pixels (22,500).
    if features.cols() > MAX_PROJECTED {
        return Err(Error::InvalidInput(format!(
            "a projection of {} values per image would need a {0} x {0} covariance matrix: \
             project embeddings, or pixels decoded at 64x64 or less (DecodeOptions::new().size(32))",
            features.cols()
        )));
    }
    let pca = linear::Pca::fit(&Samples::from_features(features, fit_on)?, 2)?;
    let (mut pc1, mut pc2) = (Vec::new(), Vec::new());
    for i in 0..features.rows() {
        let scores = pca.project(features.row(i));
        pc1.push(scores[0] as f64);
        pc2.push(scores.get(1).copied().unwrap_or(0.0) as f64);
    }
    let images = features.images();
    let subset = crate::subset::column_of(images, "the projection").unwrap_or("split");
    let mut table = images
        .select(["path", "class", subset])
        .ctx("the projection's table")?;
    table
        .with_column(Column::new("pc1".into(), pc1))
        .ctx("the projection's table")?;
    table
        .with_column(Column::new("pc2".into(), pc2))
        .ctx("the projection's table")?;
    Ok(frame::fresh(&table))
}

/// The length of `network`'s embeddings, when this build has the network (cargo feature
/// `pretrained`).
fn embedding_size(network: &str) -> Option<usize> {
    #[cfg(feature = "pretrained")]
    if network == crate::pretrained::NAME {
        return Some(crate::pretrained::EMBEDDING_SIZE);
    }
    let _ = network;
    None
}

/// The penalties logistic regression on embeddings chooses from on validation (standardized
/// embeddings; `λ` of `mean log-loss + λ/2 ‖w‖²`).
#[cfg(feature = "pretrained")]
const PRETRAINED_PENALTIES: [f64; 5] = [1e-4, 1e-3, 1e-2, 1e-1, 1.0];

impl Evaluation {
    /// Adds two models on a pretrained network's embeddings of the same images
    /// ([`crate::decode::embeddings`], on the same split) to the evaluation: logistic regression
    /// (standardized embeddings, its penalty chosen on validation by ROC AUC) and a random forest
    /// (`options.forest`), each with its threshold chosen on validation and scored on train,
    /// validation and test like the others, so they join the same tables and figures.
    ///
    /// Needs the cargo feature `pretrained`.
    ///
    /// ```no_run
    /// use xray_lab::prelude::*;
    /// let images = split::default_split(&load::scan(data_root()?)?)?;
    /// let mut evaluation = train::evaluate(&decode::features(&images, &DecodeOptions::new())?, &TrainOptions::new())?;
    /// let network = pretrained::Network::from_cache()?;
    /// let embeddings = decode::embeddings(&images, &network, &DecodeOptions::new())?;
    /// evaluation.add_pretrained(&embeddings, &TrainOptions::new())?;
    /// # Ok::<(), xray_lab::Error>(())
    /// ```
    #[cfg(feature = "pretrained")]
    #[cfg_attr(docsrs, doc(cfg(feature = "pretrained")))]
    pub fn add_pretrained(&mut self, embeddings: &Features, options: &TrainOptions) -> Result<()> {
        let Some(network) = embeddings.network() else {
            return Err(Error::InvalidInput(
                "add_pretrained takes embeddings (decode::embeddings); these are pixels".into(),
            ));
        };
        options.check()?;
        let start = Instant::now();
        let subsets = self.subsets.clone();
        let names = [&subsets[0], &subsets[1], &subsets[2]];
        let x = pixel_samples(embeddings, names)?;
        let mut scorer = Scorer {
            names,
            decode: embeddings.options().clone(),
            models: Vec::new(),
            results: Vec::new(),
        };
        let input = Input::Embedding {
            network: network.to_string(),
        };
        let t = Instant::now();
        let mut best: Option<(f64, LogisticRegression)> = None;
        for penalty in PRETRAINED_PENALTIES {
            let parameters = options
                .logistic
                .clone()
                .with_standardize(true)
                .with_penalty(penalty);
            let model = LogisticRegression::fit(&x[0], &parameters)?;
            let auc = metrics::roc_auc(&model.predict_proba(&x[1])?, x[1].y());
            if best.as_ref().is_none_or(|(b, _)| auc > *b) {
                best = Some((auc, model));
            }
        }
        let (_, logistic) = best.expect("PRETRAINED_PENALTIES is not empty");
        scorer.add(
            ModelKind::PretrainedLogistic,
            Estimator::Logistic(logistic),
            input.clone(),
            &x,
            t.elapsed().as_secs_f64(),
        )?;
        let t = Instant::now();
        let forest = RandomForest::fit(&x[0], &options.forest)?;
        scorer.add(
            ModelKind::PretrainedForest,
            Estimator::Forest(forest),
            input,
            &x,
            t.elapsed().as_secs_f64(),
        )?;
        self.models.extend(scorer.models);
        self.results.extend(scorer.results);
        self.seconds += start.elapsed().as_secs_f64();
        Ok(())
    }

    /// The metrics of one subset, one row per model, with the columns a reader compares
    /// (`model`, `features`, `accuracy`, `precision`, `recall`, `specificity`, `f1`,
    /// `roc_auc`, `rmse`, `fit_seconds`). An evaluation at the end of a notebook cell shows
    /// this table for its test subset.
    pub fn table(&self, subset: impl Into<Subset>) -> Result<DataFrame> {
        let subset = subset.into();
        let rows: Vec<&Scored> = self.results.iter().filter(|r| r.subset == subset).collect();
        if rows.is_empty() {
            return Err(Error::InvalidInput(format!(
                "the evaluation has no results on {subset}; it scored {}",
                self.subsets
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let fit = |kind: ModelKind| {
            self.models
                .iter()
                .find(|m| m.kind == kind)
                .map(|m| m.fit_seconds)
                .unwrap_or(f64::NAN)
        };
        comparison_table(rows.iter().map(|s| {
            (
                s.model.name(),
                s.features.as_str(),
                &s.metrics,
                fit(s.model),
            )
        }))
    }

    /// evcxr's display hook: [`table`](Self::table) on the test subset.
    pub fn evcxr_display(&self) {
        crate::frame::show(self.table(self.subsets[2].clone()))
    }

    /// One row per model and subset: `model`, `features`, `subset`, `images`, `rmse`, `r2`,
    /// `threshold`, `accuracy`, `precision`, `recall`, `specificity`, `f1`, `roc_auc`, and the
    /// confusion counts `tn`, `fp`, `fn`, `tp`.
    pub fn metrics_frame(&self) -> Result<DataFrame> {
        let r = &self.results;
        let f = |g: &dyn Fn(&Metrics) -> f64| r.iter().map(|s| g(&s.metrics)).collect::<Vec<f64>>();
        let u = |g: &dyn Fn(&Metrics) -> usize| {
            r.iter().map(|s| g(&s.metrics) as u32).collect::<Vec<u32>>()
        };
        let df = df!(
            "model" => r.iter().map(|s| s.model.name()).collect::<Vec<_>>(),
            "features" => r.iter().map(|s| s.features.as_str()).collect::<Vec<_>>(),
            "subset" => r.iter().map(|s| s.subset.name()).collect::<Vec<_>>(),
            "images" => u(&|m| m.images),
            "rmse" => f(&|m| m.rmse),
            "r2" => f(&|m| m.r2),
            "threshold" => f(&|m| m.threshold),
            "accuracy" => f(&|m| m.accuracy),
            "precision" => f(&|m| m.precision),
            "recall" => f(&|m| m.recall),
            "specificity" => f(&|m| m.specificity),
            "f1" => f(&|m| m.f1),
            "roc_auc" => f(&|m| m.roc_auc),
            "tn" => u(&|m| m.confusion.tn),
            "fp" => u(&|m| m.confusion.fp),
            "fn" => u(&|m| m.confusion.fn_),
            "tp" => u(&|m| m.confusion.tp),
        )
        .ctx("building the metrics table")?;
        Ok(frame::fresh(&df))
    }

    /// The ROC curves: `model`, `subset`, `threshold`, `fpr`, `tpr`, a row per point.
    pub fn roc_frame(&self) -> Result<DataFrame> {
        let points = self
            .results
            .iter()
            .flat_map(|s| s.roc.iter().map(move |p| (s, p)));
        let (mut model, mut subset, mut threshold, mut fpr, mut tpr) =
            (vec![], vec![], vec![], vec![], vec![]);
        for (s, p) in points {
            model.push(s.model.name());
            subset.push(s.subset.name());
            threshold.push(p.threshold);
            fpr.push(p.fpr);
            tpr.push(p.tpr);
        }
        let df = df!("model" => model, "subset" => subset, "threshold" => threshold, "fpr" => fpr, "tpr" => tpr)
            .ctx("building the ROC table")?;
        Ok(frame::fresh(&df))
    }

    /// The report's model's penalty search: `alpha`, `validation_rmse`.
    pub fn ridge_path_frame(&self) -> Result<DataFrame> {
        let df = df!(
            "alpha" => self.ridge_path.iter().map(|p| p.0).collect::<Vec<_>>(),
            "validation_rmse" => self.ridge_path.iter().map(|p| p.1).collect::<Vec<_>>(),
        )
        .ctx("building the penalty table")?;
        Ok(frame::fresh(&df))
    }

    /// The scores of `model` on `subset` (`"test"` or [`Subset::Test`]); an error names what
    /// is missing (the shortcut checks are off, or the subset was not scored).
    pub fn result(&self, model: ModelKind, subset: impl Into<Subset>) -> Result<&Scored> {
        let subset = subset.into();
        self.model(model)?;
        self.results
            .iter()
            .find(|s| s.model == model && s.subset == subset)
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "{model} was not scored on subset {subset:?}; the subsets are {}",
                    self.subsets.each_ref().map(Subset::name).join(", ")
                ))
            })
    }

    /// What each model costs when a missed PNEUMONIA costs `missed` and a false alarm
    /// `false_alarm`: its cheapest threshold on validation ([`metrics::cheapest_threshold`]),
    /// the cost per image there, and the cost per image on test at that same threshold. Columns
    /// `model`, `features` (what it reads), `threshold`, `validation cost`, `test cost`, cheapest
    /// on validation first (pick on validation; test says what to expect).
    pub fn costs(&self, missed: f64, false_alarm: f64) -> Result<DataFrame> {
        let mut rows: Vec<(String, String, f64, f64, f64)> = Vec::new();
        for model in &self.models {
            let split = |subset: &Subset| -> Result<(Vec<f64>, Vec<u32>)> {
                Ok(self
                    .result(model.kind, subset.clone())?
                    .scores
                    .iter()
                    .copied()
                    .unzip())
            };
            let (scores, labels) = split(&self.subsets[1])?;
            let (threshold, cost) =
                metrics::cheapest_threshold(&scores, &labels, missed, false_alarm);
            let (scores, labels) = split(&self.subsets[2])?;
            let test = metrics::cost_per_image(&scores, &labels, threshold, missed, false_alarm);
            let features = self
                .result(model.kind, self.subsets[2].clone())?
                .features
                .clone();
            rows.push((model.kind.to_string(), features, threshold, cost, test));
        }
        rows.sort_by(|a, b| a.3.total_cmp(&b.3));
        let df = df!(
            "model" => rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
            "features" => rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
            "threshold" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            "validation cost" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            "test cost" => rows.iter().map(|r| r.4).collect::<Vec<_>>(),
        )
        .ctx("building the cost table")?;
        Ok(frame::fresh(&df))
    }

    /// The trained `model`; an error when it was not trained (the shortcut checks are off).
    pub fn model(&self, model: ModelKind) -> Result<&Model> {
        self.models.iter().find(|m| m.kind == model).ok_or_else(|| {
            Error::InvalidInput(format!(
                "{model} was not trained here (the shortcut checks need TrainOptions::shortcut(true)); the models are {}",
                self.models.iter().map(|m| m.kind.name()).collect::<Vec<_>>().join(", ")
            ))
        })
    }

    /// Save every model as `<dir>/<name>.json`; returns the files.
    pub fn save_models(&self, dir: impl AsRef<Path>) -> Result<Vec<std::path::PathBuf>> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        self.models
            .iter()
            .map(|m| {
                let file = dir.join(format!("{}.json", m.file_stem()));
                m.save(&file).map(|_| file)
            })
            .collect()
    }
}
