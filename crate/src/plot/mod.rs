//! Plot: the report's figures as values that show inline in evcxr and save as SVG and PNG.
//!
//! Every function here takes the table it shows and returns a [`Figure`]. In a notebook, a
//! figure as a cell's last expression draws inline; anywhere, [`Figure::save`] writes it as SVG
//! (for the browser) and PNG (for GitHub, nbviewer and the README).
//!
//! ```
//! use xray_lab::prelude::*;
//! # let tmp = tempfile::tempdir()?;
//! # synth::SynthOptions::new().scale(0.01).write(tmp.path().join("data"))?;
//! let dataset = load::scan(tmp.path().join("data"))?;
//! let figure = plot::images_per_subset(&dataset.images)?;
//! let files = figure.save(tmp.path().join("images_per_subset"))?; // .svg and .png
//! assert!(files.iter().all(|f| f.exists()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Text is drawn with DejaVu Sans, bundled in the crate, so figures render the same on a
//! machine with no system fonts (plotters' default font loader needs them).
//!
//! One look everywhere: a colour per class ([`class_color`]) and per subset ([`subset_color`]).

mod bars;
mod dashboard;
mod figure;
mod grid;
mod lessons;
mod model;
mod pictures;
mod share;
mod shortcut;
pub mod stems;
mod style;
mod xy;

pub use bars::{classes_per_subset, compare_subsets, images_per_subset};
pub use dashboard::{color_legend, dashboard, html_page, report_dashboards, save_page};
pub use figure::{Backend, Figure};
pub use grid::sample_grid;
pub use lessons::{decoding_difference, leaks_between_subsets, penalty_path, pick, roc_sweep};
pub use model::{roc_curves, score_histograms};
pub use pictures::{coefficient_image, confusion_matrices};
pub use share::{classes_stacked, population_graph, subset_shares};
pub use shortcut::{acquisition, occlusion_averages, occlusion_map};
pub use style::{class_color, subset_color};
pub use xy::{
    image_sizes, intensity_histograms, intensity_stats_per_subset, scatter_by_class,
    size_histogram, size_stats_per_subset,
};
