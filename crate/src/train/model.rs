//! A trained model: what it reads, its estimator, its threshold; saved and loaded, scoring files.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::kind::ModelKind;
use super::linear::{self, LogisticRegression, RidgeRegression};
use super::samples::{file_facts, pool_row, require_pixels, Samples};
use super::tree::{DecisionTree, RandomForest};
use crate::decode::{DecodeOptions, Features};
use crate::subset::Subset;
use crate::{Error, Result};

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
    /// File facts from the header ([`FACTS`](super::FACTS)): the shortcut check.
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
    pub(super) fn describe(&self, decode: &DecodeOptions) -> String {
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
                return Err(Error::Incompatible {
                    what: format!("model {:?}", self.kind.name()),
                    reason: format!(
                        "it reads {network} embeddings: give it decode::embeddings of the images"
                    ),
                })
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

    pub(super) fn check_decode(&self, options: &DecodeOptions) -> Result<()> {
        if options.key() != self.decode.key() {
            return Err(Error::Incompatible {
                what: format!("model {:?}", self.kind.name()),
                reason: format!(
                    "it was trained on features decoded as {} but was given features decoded \
                     as {}: decode with the model's settings (model.decode)",
                    self.decode.key(),
                    options.key()
                ),
            });
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
    pub(super) fn embed_file(&self, path: &Path, _network: &str) -> Result<Vec<f32>> {
        let gray = crate::decode::decode_file(path, &self.decode)?;
        let network = crate::pretrained::Network::shared()?;
        Ok(network.run(&network.input_from_gray(&gray)).embedding)
    }

    /// Without the network in this build, a model that reads embeddings cannot predict.
    #[cfg(not(feature = "pretrained"))]
    pub(super) fn embed_file(&self, _path: &Path, network: &str) -> Result<Vec<f32>> {
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
        crate::files::write_file(path, &json)
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

/// The length of `network`'s embeddings, when this build has the network (cargo feature
/// `pretrained`).
pub(super) fn embedding_size(network: &str) -> Option<usize> {
    #[cfg(feature = "pretrained")]
    if network == crate::pretrained::NAME {
        return Some(crate::pretrained::EMBEDDING_SIZE);
    }
    let _ = network;
    None
}
