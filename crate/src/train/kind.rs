//! The models [`evaluate`](super::evaluate) trains, as a type.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// One of the models [`evaluate`](super::evaluate) trains. Displays (and serializes) as the name
/// tables, figures and model files use.
///
/// ```
/// use xray_lab::train::ModelKind;
/// assert_eq!(ModelKind::LinearRegression.to_string(), "linear regression (report)");
/// assert_eq!("random forest".parse::<ModelKind>().unwrap(), ModelKind::RandomForest);
/// assert!("svm".parse::<ModelKind>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ModelKind {
    /// The baseline every model must beat: it reads nothing and scores every image with the
    /// training set's share of PNEUMONIA, so it calls every image the majority class.
    MajorityClass,
    /// The report's regularized linear regression on the pixels.
    LinearRegression,
    /// Logistic regression on the pixels.
    LogisticRegression,
    /// A decision tree on principal components of block means.
    DecisionTree,
    /// A random forest on block means.
    RandomForest,
    /// The shortcut check: logistic regression on file facts, not pixels.
    ShortcutLogistic,
    /// The shortcut check: a random forest on file facts.
    ShortcutForest,
    /// Logistic regression on a pretrained network's embeddings
    /// (`Evaluation::add_pretrained`, cargo feature `pretrained`).
    PretrainedLogistic,
    /// A random forest on a pretrained network's embeddings.
    PretrainedForest,
}

impl ModelKind {
    /// Every kind, in the order of [`Evaluation::models`](super::Evaluation::models).
    pub const ALL: [ModelKind; 9] = [
        ModelKind::MajorityClass,
        ModelKind::LinearRegression,
        ModelKind::LogisticRegression,
        ModelKind::DecisionTree,
        ModelKind::RandomForest,
        ModelKind::ShortcutLogistic,
        ModelKind::ShortcutForest,
        ModelKind::PretrainedLogistic,
        ModelKind::PretrainedForest,
    ];

    /// Its name in tables, figures and model files.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::MajorityClass => "majority class (baseline)",
            ModelKind::LinearRegression => "linear regression (report)",
            ModelKind::LogisticRegression => "logistic regression",
            ModelKind::DecisionTree => "decision tree",
            ModelKind::RandomForest => "random forest",
            ModelKind::ShortcutLogistic => "shortcut: logistic regression",
            ModelKind::ShortcutForest => "shortcut: random forest",
            ModelKind::PretrainedLogistic => "pretrained: logistic regression",
            ModelKind::PretrainedForest => "pretrained: random forest",
        }
    }

    /// Whether it reads file facts instead of pixels (a shortcut check).
    pub fn is_shortcut(self) -> bool {
        matches!(
            self,
            ModelKind::ShortcutLogistic | ModelKind::ShortcutForest
        )
    }

    /// Whether it reads a pretrained network's embeddings instead of pixels.
    pub fn is_pretrained(self) -> bool {
        matches!(
            self,
            ModelKind::PretrainedLogistic | ModelKind::PretrainedForest
        )
    }

    /// A file name for the model: its name in lower case, words joined by `_`.
    pub fn file_stem(self) -> String {
        self.name()
            .to_lowercase()
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("_")
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ModelKind {
    type Err = Error;
    fn from_str(name: &str) -> Result<Self> {
        ModelKind::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| Error::NotFound {
                kind: "model",
                name: name.to_string(),
                known: ModelKind::ALL.map(ModelKind::name).join(", "),
            })
    }
}

impl Serialize for ModelKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for ModelKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}
