//! The whole report in one call, without Jupyter: scan, resplit, image facts, features (cached),
//! training and evaluation, every figure, the three dashboards, the HTML page, the split file,
//! the models and `metrics.json`. What `xray-lab report` runs.
//!
//! One file per idea: the settings (options.rs), the pipeline and what it saves (run.rs), the
//! shortcut section (shortcut.rs), `metrics.json`'s rows (summary.rs), and the entry points with
//! the figures and page (build.rs).

mod build;
mod figures;
mod options;
mod run;
mod shortcut;
mod summary;

pub use build::{build, train};
pub use figures::{figures, page};
pub use options::ReportOptions;
pub use run::{run, Run};
pub use shortcut::{
    Shortcut, ShortcutSummary, OCCLUSION_IMAGES, OCCLUSION_PATCH, OCCLUSION_STRIDE,
};
pub use summary::{Count, ModelMetrics, ModelRow, SkippedFile, SplitCheck, Summary};
