//! Everything a notebook needs, in one `use xray_lab::prelude::*;`.
//!
//! Besides the crate's own names this brings polars' prelude (DataFrame, col, lit, ...), so a
//! notebook never depends on polars itself and its version never drifts from the crate's.

pub use crate::cache;
pub use crate::columns;
pub use crate::course;
pub use crate::decode::{self, DecodeOptions, Features};
pub use crate::error::{Error, Result};
pub use crate::facts;
pub use crate::frame::{self, Table};
pub use crate::load::{self, Dataset, Origin, ScanOptions, SkipReason, Skipped};
pub use crate::occlusion::{self, Occlusion};
pub use crate::plot::{self, Figure};
#[cfg(feature = "pretrained")]
pub use crate::pretrained;
pub use crate::progress::Progress;
pub use crate::report;
pub use crate::shortcut;
pub use crate::split::{self, Amount, ResplitOptions, ValFolder};
pub use crate::subset::{self, Splits, Subset};
pub use crate::synth::{self, SynthOptions};
pub use crate::train::toolbox::ToolboxModel;
pub use crate::train::{self, Evaluation, Model, ModelKind, Samples, TrainOptions};
pub use crate::{data_root, output_dir, report_style_counts};
pub use polars::prelude::*;
