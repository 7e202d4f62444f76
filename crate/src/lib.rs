//! # xray_lab
//!
//! Explore and classify a folder-per-class image dataset from a notebook, in Rust. Built to
//! redo, correct and outpace a coursework report that classified chest X-rays (NORMAL or
//! PNEUMONIA) with PySpark and MLlib.
//!
//! One module per stage of the data's path:
//!
//! * [`load`]: find the images under a root and describe them in a polars DataFrame;
//! * [`synth`]: a realistic synthetic dataset in the Kaggle layout, the default when no data is given;
//! * [`split`]: the report's resplit, made disjoint, exact, reproducible and leak-free;
//! * [`facts`], [`decode`]: image facts from the headers, and 150x150 grayscale features, fast and cached;
//! * [`train`]: the report's regularized linear regression and the classifiers it called for;
//! * [`shortcut`]: how much of a score the acquisition explains (the header facts per class, a
//!   test matched on size, every model on it);
//! * [`occlusion`]: where on the image a model's score comes from, for any model;
//! * [`plot`]: the report's figures, inline in evcxr and as SVG/PNG files;
//! * [`report`]: all of it in one call, as `xray-lab report` runs it;
//! * [`course`]: the notebooks' self-checks (a hint when an answer is not right yet);
//! * `pretrained` (cargo feature `pretrained`, off by default): a pretrained network
//!   (EfficientNet-Lite0) whose embeddings the classifiers can read instead of pixels.
//!
//! ```
//! use xray_lab::prelude::*;
//! # let tmp = tempfile::tempdir()?;
//! # std::env::set_var("XRAY_LAB_DATA", tmp.path());
//! # synth::SynthOptions::new().scale(0.01).write(tmp.path())?;
//! let root = data_root()?;                 // $XRAY_LAB_DATA, or the synthetic default
//! let dataset = load::scan(&root)?;
//! let figure = plot::images_per_subset(&dataset.images)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! polars, plotters and image are re-exported, so a notebook that depends on this crate uses
//! exactly the versions in its `Cargo.lock`.

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod cache;
pub mod columns;
pub mod course;
pub mod decode;
pub mod env;
pub mod error;
pub mod facts;
pub mod files;
pub mod frame;
pub mod load;
pub mod occlusion;
pub mod plot;
pub mod prelude;
#[cfg(feature = "pretrained")]
#[cfg_attr(docsrs, doc(cfg(feature = "pretrained")))]
pub mod pretrained;
pub mod progress;
pub mod reject;
pub mod report;
pub mod shortcut;
pub mod split;
pub mod subset;
pub mod synth;
pub mod train;

pub use error::{Error, Result};
pub use {image, plotters, polars, smartcore};

use std::path::PathBuf;

use error::PolarsContext;

pub use env::{output_dir, DATA_ENV, OUT_ENV};

/// The dataset root to work on: `$XRAY_LAB_DATA` when set, else the synthetic default dataset
/// (generated at full scale on first use, about half a minute, then reused; see [`synth::default_root`]).
pub fn data_root() -> Result<PathBuf> {
    match env::data_dir() {
        Some(root) => Ok(root),
        None => {
            let root = synth::default_root();
            synth::SynthOptions::new().ensure(&root)?;
            Ok(root)
        }
    }
}

/// The report's first table, "Number of Images in Training and Test Datasets", next to ours:
/// images per split on disk, with the report's approximate numbers where it gave them.
pub fn report_style_counts(dataset: &load::Dataset) -> Result<polars::prelude::DataFrame> {
    use polars::prelude::*;
    let counts = load::counts(&dataset.images, columns::SPLIT)?;
    let per_split = counts
        .lazy()
        .group_by_stable([col(columns::SPLIT)])
        .agg([col("images").sum()])
        .collect()
        .ctx("summing images per split")?;
    let names = per_split
        .column(columns::SPLIT)
        .and_then(|c| c.str().cloned())
        .ctx("reading splits")?;
    let report: Vec<Option<&str>> = names
        .iter()
        .map(|name| match name {
            Some("train") => Some("~5500"),
            Some("test") => Some("~600"),
            _ => None,
        })
        .collect();
    let mut out = frame::fresh(&per_split);
    out.with_column(Column::new("report".into(), report))
        .ctx("adding the report's numbers")?;
    Ok(frame::fresh(&out))
}
