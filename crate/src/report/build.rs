//! The two entry points: `train` (the pipeline, the split file, models and `metrics.json`) and
//! `build` (all of that, with every figure, the dashboards and the page).

use std::path::Path;

use super::options::ReportOptions;
use super::run::run;
use super::summary::Summary;
use crate::{Error, Result};

/// What `xray-lab train` runs: the shared pipeline, then `split.csv`, `models/*.json` and
/// `metrics.json` in `out`.
pub fn train(
    root: impl AsRef<Path>,
    out: impl AsRef<Path>,
    options: &ReportOptions,
) -> Result<Summary> {
    let out = out.as_ref();
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let mut run = run(root, options)?;
    run.save_split_and_models(out)?;
    run.save_summary(out)
}

/// Runs the whole report on the dataset at `root`, writing into `out`: `figures/` (SVG and PNG),
/// `dashboards/` (the report's three, SVG and PNG), `report.html`, `split.csv`, `models/` and
/// `metrics.json`. A second run reuses the feature and file-facts caches.
pub fn build(
    root: impl AsRef<Path>,
    out: impl AsRef<Path>,
    options: &ReportOptions,
) -> Result<Summary> {
    let out = out.as_ref();
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let mut run = run(root, options)?;
    let facts = run.facts(&options.decode)?;
    run.shortcut(&facts, options)?;
    let figures = run.figures(&options.decode)?;
    run.save_figures(&figures, out)?;
    run.save_split_and_models(out)?;
    run.save_summary(out)
}
