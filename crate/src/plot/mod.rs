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
mod share;
mod shortcut;
mod xy;

pub use bars::{classes_per_subset, compare_subsets, images_per_subset};
pub use dashboard::{color_legend, dashboard, html_page, report_dashboards, save_page};
pub use figure::Figure;
pub use grid::sample_grid;
pub use lessons::{decoding_difference, leaks_between_subsets, penalty_path, pick, roc_sweep};
pub use model::{coefficient_image, confusion_matrices, roc_curves, score_histograms};
pub use share::{classes_stacked, population_graph, subset_shares};
pub use shortcut::{acquisition, occlusion_averages, occlusion_map};
pub use xy::{
    image_sizes, intensity_histograms, intensity_stats_per_subset, scatter_by_class,
    size_histogram, size_stats_per_subset,
};

use plotters::prelude::*;
use plotters::style::RGBColor;

/// The series legend every chart uses: the bundled font, a light box, at `position`.
pub(crate) fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<
        'a,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    position: SeriesLabelPosition,
) -> std::result::Result<(), String> {
    chart
        .configure_series_labels()
        .label_font((figure::FONT, 14))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .position(position)
        .draw()
        .map_err(|e| e.to_string())
}

/// The tick label of a category axis: the name at whole positions, nothing between them.
pub(crate) fn category_label(names: &[String], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
        names[i as usize].clone()
    } else {
        String::new()
    }
}

/// The colour of a class in every figure: NORMAL teal, PNEUMONIA coral, others from a fixed list.
pub fn class_color(class: &str) -> RGBColor {
    match class {
        "NORMAL" => RGBColor(0x2a, 0x9d, 0x8f),
        "PNEUMONIA" => RGBColor(0xe7, 0x6f, 0x51),
        other => fallback_color(other),
    }
}

/// The colour of a subset in every figure: train slate, test gold, val green, validation purple.
pub fn subset_color(subset: &str) -> RGBColor {
    match subset {
        "train" => RGBColor(0x26, 0x46, 0x53),
        "test" => RGBColor(0xe9, 0xc4, 0x6a),
        "val" => RGBColor(0x8a, 0xb1, 0x7d),
        "validation" => RGBColor(0x6d, 0x59, 0x7a),
        other => fallback_color(other),
    }
}

/// A stable colour for any other name (the same name always gets the same colour).
fn fallback_color(name: &str) -> RGBColor {
    const PALETTE: [RGBColor; 6] = [
        RGBColor(0x45, 0x7b, 0x9d),
        RGBColor(0xb5, 0x65, 0x76),
        RGBColor(0x7f, 0x8c, 0x3a),
        RGBColor(0x9c, 0x6b, 0x30),
        RGBColor(0x5c, 0x5c, 0x8a),
        RGBColor(0x88, 0x88, 0x88),
    ];
    let hash = name
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
    PALETTE[hash as usize % PALETTE.len()]
}
