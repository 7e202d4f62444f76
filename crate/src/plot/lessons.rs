//! The course's explanatory figures: what a student would rather look at than read. A threshold
//! sweeping the score histograms into a ROC curve, what the subsets of a split share, exact
//! against DCT-scaled decoding, and the validation error along the ridge's penalties.

use std::path::Path;

use image::{Rgb, RgbImage};
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;
use polars::prelude::*;

use super::bars::{BarChart, BarSeries};
use super::figure::Figure;
use super::grid::{write_text, Raster};
use super::model::{model_color, score_lines, LineChart, Mark};
use crate::decode::{decode_file, DecodeOptions};
use crate::error::{Error, Result};
use crate::subset::Subset;
use crate::train::metrics::Confusion;
use crate::train::{Evaluation, ModelKind};

/// How a ROC curve is made: `model`'s score histograms on `subset` with three thresholds drawn
/// across them (the chosen one between a low and a high one), and beside them the ROC curve
/// with the point each threshold gives. Sweeping the threshold from high to low walks the curve
/// from (0, 0) to (1, 1): everything right of the line is called PNEUMONIA, so the PNEUMONIA
/// share right of it is the recall (up) and the NORMAL share right of it the false-positive
/// rate (right).
pub fn roc_sweep(
    evaluation: &Evaluation,
    model: ModelKind,
    subset: impl Into<Subset>,
) -> Result<Figure> {
    let subset = subset.into();
    let result = evaluation.result(model, subset.clone())?;
    let (scores, labels): (Vec<f64>, Vec<u32>) = result.scores.iter().copied().unzip();
    if scores.is_empty() {
        return Err(Error::Incompatible {
            what: "roc_sweep".into(),
            reason: format!("{model} has no scores on {subset}"),
        });
    }
    let mut sorted = scores.clone();
    sorted.sort_by(f64::total_cmp);
    let quantile = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    let thresholds = [
        ("low", quantile(0.2)),
        ("chosen", result.metrics.threshold),
        ("high", quantile(0.8)),
    ];
    let mut histograms = score_lines(result, true);
    let mut roc = LineChart {
        groups: vec![(
            format!("{model} (AUC {:.3})", result.metrics.roc_auc),
            model_color(1),
            result.roc.iter().map(|p| (p.fpr, p.tpr)).collect(),
        )],
        x_label: "false-positive rate (1 - specificity)".into(),
        y_label: "true-positive rate (recall)".into(),
        x_range: (0.0, 1.0),
        y_range: (0.0, 1.0),
        diagonal: true,
        marks: Vec::new(),
        legend: SeriesLabelPosition::LowerRight,
    };
    for (name, t) in thresholds {
        let c = Confusion::new(&scores, &labels, t);
        histograms.marks.push(Mark {
            label: format!("{name} {t:.2}"),
            x: t,
            y: 0.0,
            vertical: true,
        });
        roc.marks.push(Mark {
            label: format!(
                "{name}: recall {:.2}, FPR {:.2}",
                c.recall(),
                1.0 - c.specificity()
            ),
            x: 1.0 - c.specificity(),
            y: c.recall(),
            vertical: false,
        });
    }
    super::dashboard::dashboard(
        &format!("{model} on {subset}: one threshold, one point of the ROC curve"),
        vec![
            Figure::new("Scores per class, three thresholds", histograms),
            Figure::new("The ROC curve, the same three thresholds", roc),
        ],
        2,
    )
}

/// What the subsets of each split share: for every pair of subsets, the images in both (left)
/// and the patients with images in both (right), one bar per split. A clean split has no bar.
/// Takes `(name, table)` pairs as [`crate::split::compare_sizes`] does: the report's
/// memberships, a resplit.
pub fn leaks_between_subsets(splits: &[(&str, &DataFrame)]) -> Result<Figure> {
    let mut pairs: Vec<String> = Vec::new();
    let mut counts = Vec::new();
    for (name, table) in splits {
        let shared = crate::split::shared_between(table)?;
        let names = crate::frame::strings(&shared, "pair")?;
        for pair in &names {
            if !pairs.contains(pair) {
                pairs.push(pair.clone());
            }
        }
        let images = crate::frame::floats(&shared, "images")?;
        let patients = crate::frame::floats(&shared, "patients")?;
        counts.push((name.to_string(), names, images, patients));
    }
    let chart = |which: usize, y_label: &str| BarChart {
        categories: pairs.clone(),
        series: counts
            .iter()
            .enumerate()
            .map(|(i, (name, names, images, patients))| {
                let values = if which == 0 { images } else { patients };
                BarSeries {
                    name: name.clone(),
                    values: pairs
                        .iter()
                        .map(|p| names.iter().position(|n| n == p).map_or(0.0, |k| values[k]))
                        .collect(),
                    colors: vec![model_color(i); pairs.len()],
                }
            })
            .collect(),
        x_label: "subsets".into(),
        y_label: y_label.into(),
    };
    super::dashboard::dashboard(
        "What two subsets share: the same image, or the same patient",
        vec![
            Figure::new("Images in both subsets", chart(0, "images")),
            Figure::new("Patients in both subsets", chart(1, "patients")),
        ],
        2,
    )
}

/// One file decoded exactly (every pixel, then resized) and with DCT scaling (the default,
/// PIL's `draft`), side by side, with their absolute difference magnified 8 times (white: the
/// same; dark: far apart), and the mean and largest difference in gray levels (0-255).
pub fn decoding_difference(path: impl AsRef<Path>, options: &DecodeOptions) -> Result<Figure> {
    let path = path.as_ref();
    let exact = decode_file(path, &options.clone().exact(true))?;
    let scaled = decode_file(path, &options.clone().exact(false))?;
    let side = exact.width();
    let zoom = (300 / side.max(1)).max(1);
    let cell = side * zoom;
    let (gap, header, footer) = (16u32, 60u32, 40u32);
    let (width, height) = (3 * cell + 4 * gap, cell + header + footer);
    let mut canvas = RgbImage::from_pixel(width, height, Rgb([255, 255, 255]));
    let mut total = 0u64;
    let mut largest = 0u8;
    for (x, y, e) in exact.enumerate_pixels() {
        let s = scaled.get_pixel(x, y).0[0];
        let e = e.0[0];
        let d = e.abs_diff(s);
        total += d as u64;
        largest = largest.max(d);
        let shade = 255u8.saturating_sub(d.saturating_mul(8));
        for (panel, value) in [
            (0u32, Rgb([e, e, e])),
            (1, Rgb([s, s, s])),
            (2, Rgb([255, shade, shade])),
        ] {
            let left = gap + panel * (cell + gap);
            for dy in 0..zoom {
                for dx in 0..zoom {
                    canvas.put_pixel(left + x * zoom + dx, header + y * zoom + dy, value);
                }
            }
        }
    }
    let mean = total as f64 / (side * side).max(1) as f64;
    let fail = |e: String| Error::Plot {
        figure: "decoding difference".into(),
        reason: e,
    };
    super::style::register_fonts();
    {
        let area = BitMapBackend::with_buffer(canvas.as_mut(), (width, height)).into_drawing_area();
        let text = |s: String, at: (i32, i32), size: u32| {
            write_text(&area, "decoding difference", &s, at, size, HPos::Center)
        };
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        text(
            format!("{name}: mean difference {mean:.2}, largest {largest} gray levels (of 255)"),
            (width as i32 / 2, 18),
            18,
        )?;
        for (panel, label) in [
            "exact (full decode)",
            "DCT scaling (default)",
            "difference x 8",
        ]
        .iter()
        .enumerate()
        {
            let centre = (gap + panel as u32 * (cell + gap) + cell / 2) as i32;
            text(label.to_string(), (centre, 46), 15)?;
        }
        text(
            format!("{side}x{side} features; white: the same pixel value"),
            (width as i32 / 2, (header + cell + footer / 2) as i32),
            14,
        )?;
        area.present().map_err(|e| fail(e.to_string()))?;
    }
    Ok(Figure::new(
        "Exact against DCT-scaled decoding",
        Raster { image: canvas },
    )
    .with_size(width, height))
}

/// The ridge regression's penalty search ([`crate::train::linear::RidgeRegression::fit_path`]):
/// validation RMSE against the penalty (log scale), the chosen penalty marked. Too small a
/// penalty fits the training images' noise, too large a one shrinks every weight towards zero;
/// validation picks between.
pub fn penalty_path(path: &[(f64, f64)]) -> Result<Figure> {
    let points: Vec<(f64, f64)> = path
        .iter()
        .filter(|(a, e)| *a > 0.0 && e.is_finite())
        .map(|(a, e)| (a.log10(), *e))
        .collect();
    let Some(&(best_x, best_y)) = points.iter().min_by(|a, b| a.1.total_cmp(&b.1)) else {
        return Err(Error::Empty {
            what: "penalty_path".into(),
            item: "penalty with a finite validation RMSE",
        });
    };
    let (x0, x1) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.0), b.max(p.0))
        });
    let (y0, y1) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.1), b.max(p.1))
        });
    let pad = ((y1 - y0) * 0.1).max(1e-3);
    Ok(Figure::new(
        "Ridge regression: validation RMSE against the penalty",
        LineChart {
            groups: vec![("validation RMSE".into(), model_color(0), points)],
            x_label: "log10 of the penalty α".into(),
            y_label: "validation RMSE".into(),
            x_range: (x0 - 0.3, x1 + 0.3),
            y_range: (y0 - pad, y1 + pad),
            diagonal: false,
            marks: vec![Mark {
                label: format!("chosen: α = {:.3e}", 10f64.powf(best_x)),
                x: best_x,
                y: best_y,
                vertical: false,
            }],
            legend: SeriesLabelPosition::UpperMiddle,
        },
    ))
}

/// The figures named `names`, in that order, from a list of `(name, figure)` pairs (what
/// [`crate::report::figures`] returns); a name not in the list is an error that lists the names.
pub fn pick(figures: &[(&str, Figure)], names: &[&str]) -> Result<Vec<Figure>> {
    names
        .iter()
        .map(|name| {
            figures
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, f)| f.clone())
                .ok_or_else(|| Error::NotFound {
                    kind: "figure",
                    name: name.to_string(),
                    known: figures
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", "),
                })
        })
        .collect()
}
