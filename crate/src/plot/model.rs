//! The model figures: ROC curves, predicted-score histograms per class, confusion matrices and
//! the linear model's weights drawn as an image.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::figure::{impl_chart, Figure};
use super::style::class_color;
use super::style::FONT;
use crate::error::{Error, Result};
use crate::subset::Subset;
use crate::train::{Evaluation, ModelKind};

/// Lines over fixed axes (ROC curves, score distributions).
#[derive(Debug, Clone)]
pub(crate) struct LineChart {
    pub groups: Vec<super::xy::Group>,
    pub x_label: String,
    pub y_label: String,
    pub x_range: (f64, f64),
    pub y_range: (f64, f64),
    /// Draw the chance diagonal (ROC).
    pub diagonal: bool,
    /// Labelled marks drawn over the lines (thresholds, a chosen point).
    pub marks: Vec<Mark>,
    /// Where the legend goes (lower right for ROC curves, where they leave room).
    pub legend: SeriesLabelPosition,
}

impl_chart!(LineChart);

/// A labelled mark on a [`LineChart`]: a vertical line at `x` (a threshold on a score axis), or
/// a dot at `(x, y)`.
#[derive(Debug, Clone)]
pub(crate) struct Mark {
    pub label: String,
    pub x: f64,
    pub y: f64,
    pub vertical: bool,
}

impl LineChart {
    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        title: &str,
    ) -> std::result::Result<(), String> {
        // One decimal over a unit or more (ROC curves, scores in [0, 1]); more on a narrower
        // range, so that zoomed-in ticks do not all read the same.
        let x_span = self.x_range.1 - self.x_range.0;
        let x_decimals = if x_span >= 1.0 {
            1
        } else if x_span >= 0.1 {
            2
        } else {
            3
        };
        let mut chart = ChartBuilder::on(area)
            .caption(title, (FONT, 22))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(
                self.x_range.0..self.x_range.1,
                self.y_range.0..self.y_range.1,
            )
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&|x: &f64| format!("{x:.*}", x_decimals))
            .y_label_formatter(&|y: &f64| format!("{y:.2}"))
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 15))
            .draw()
            .map_err(|e| e.to_string())?;
        if self.diagonal {
            chart
                .draw_series(LineSeries::new(
                    [(0.0, 0.0), (1.0, 1.0)],
                    BLACK.mix(0.35).stroke_width(1),
                ))
                .map_err(|e| e.to_string())?
                .label("chance")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], BLACK.mix(0.35)));
        }
        for (name, color, points) in &self.groups {
            let color = *color;
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    color.stroke_width(3),
                ))
                .map_err(|e| e.to_string())?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 12, y + 6)], color.filled())
                });
        }
        for (k, mark) in self.marks.iter().enumerate() {
            self.draw_mark(&mut chart, k, mark)?;
        }
        chart
            .configure_series_labels()
            .position(self.legend.clone())
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .label_font((FONT, 14))
            .draw()
            .map_err(|e| e.to_string())
    }

    /// The `k`-th mark: a vertical line or a dot, and its label. Labels go right of their mark,
    /// or left of it in the right third (so they stay inside the plot); a vertical line's label
    /// one step lower per mark, so that close thresholds do not write over each other.
    fn draw_mark<DB: DrawingBackend>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
        k: usize,
        mark: &Mark,
    ) -> std::result::Result<(), String> {
        let (x_span, y_span) = (
            self.x_range.1 - self.x_range.0,
            self.y_range.1 - self.y_range.0,
        );
        let right_third = mark.x > self.x_range.0 + 0.66 * x_span;
        let style = (FONT, 14).into_font().color(&BLACK).pos(Pos::new(
            if right_third { HPos::Right } else { HPos::Left },
            VPos::Bottom,
        ));
        let label_at = if mark.vertical {
            chart
                .draw_series(LineSeries::new(
                    [(mark.x, self.y_range.0), (mark.x, self.y_range.1)],
                    BLACK.mix(0.55).stroke_width(1),
                ))
                .map_err(|e| e.to_string())?;
            (mark.x, self.y_range.0 + (0.95 - 0.07 * k as f64) * y_span)
        } else {
            chart
                .draw_series(std::iter::once(Circle::new(
                    (mark.x, mark.y),
                    6,
                    BLACK.filled(),
                )))
                .map_err(|e| e.to_string())?;
            (mark.x, mark.y.min(self.y_range.0 + 0.93 * y_span))
        };
        chart
            .draw_series(std::iter::once(Text::new(
                format!(" {} ", mark.label),
                label_at,
                style,
            )))
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// A colour per model, fixed by its place in the evaluation.
pub(crate) fn model_color(index: usize) -> RGBColor {
    const COLORS: [RGBColor; 9] = [
        RGBColor(0x26, 0x46, 0x53),
        RGBColor(0xe7, 0x6f, 0x51),
        RGBColor(0x2a, 0x9d, 0x8f),
        RGBColor(0xe9, 0xc4, 0x6a),
        RGBColor(0x6d, 0x59, 0x7a),
        RGBColor(0x8a, 0xb1, 0x7d),
        RGBColor(0x9e, 0x2a, 0x2b),
        RGBColor(0x45, 0x7b, 0x9d),
        RGBColor(0xf4, 0xa2, 0x61),
    ];
    COLORS[index % COLORS.len()]
}

pub(super) fn no_results(what: &str, subset: &Subset) -> Error {
    Error::Incompatible {
        what: what.to_string(),
        reason: format!("the evaluation has no results on subset {subset:?}"),
    }
}

/// ROC curves of every model on `subset` (`"test"`, say), with each model's AUC in the legend.
pub fn roc_curves(evaluation: &Evaluation, subset: impl Into<Subset>) -> Result<Figure> {
    let subset = subset.into();
    let groups: Vec<_> = evaluation
        .results
        .iter()
        .filter(|r| r.subset == subset)
        .enumerate()
        .map(|(i, r)| {
            (
                format!("{} (AUC {:.3})", r.model, r.metrics.roc_auc),
                model_color(i),
                r.roc.iter().map(|p| (p.fpr, p.tpr)).collect(),
            )
        })
        .collect();
    if groups.is_empty() {
        return Err(no_results("ROC curves", &subset));
    }
    Ok(Figure::new(
        format!("ROC curves on {subset}"),
        LineChart {
            groups,
            x_label: "false-positive rate (1 - specificity)".into(),
            y_label: "true-positive rate (recall)".into(),
            x_range: (0.0, 1.0),
            y_range: (0.0, 1.0),
            diagonal: true,
            marks: Vec::new(),
            legend: SeriesLabelPosition::LowerRight,
        },
    )
    .with_size(800, 650))
}

/// Histograms of `model`'s scores on `subset`, one line per true class (share of the class's
/// images per bin), with its threshold in the title: how well the scores separate the classes.
pub fn score_histograms(
    evaluation: &Evaluation,
    model: ModelKind,
    subset: impl Into<Subset>,
) -> Result<Figure> {
    let subset = subset.into();
    let result = evaluation.result(model, subset.clone())?;
    Ok(Figure::new(
        format!(
            "{model}: scores on {subset} per class (threshold {:.2})",
            result.metrics.threshold
        ),
        score_lines(result, false),
    ))
}

/// One model's scores as two histograms (share of each true class's images per bin), over 0 to
/// 1 and whatever the scores reach beyond, or (`zoom`) over the scores' own range.
pub(crate) fn score_lines(result: &crate::train::Scored, zoom: bool) -> LineChart {
    let (lo, hi) = result
        .scores
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (s, _)| {
            (a.min(*s), b.max(*s))
        });
    let (lo, hi) = if !(lo.is_finite() && hi > lo) {
        (0.0, 1.0)
    } else if zoom {
        let pad = 0.05 * (hi - lo);
        (lo - pad, hi + pad)
    } else {
        (lo.min(0.0), hi.max(1.0))
    };
    const BINS: usize = 25;
    let width = (hi - lo) / BINS as f64;
    let mut groups = Vec::new();
    let mut top: f64 = 0.0;
    for (label, name) in [(0u32, "NORMAL"), (1, "PNEUMONIA")] {
        let scores: Vec<f64> = result
            .scores
            .iter()
            .filter(|(_, y)| *y == label)
            .map(|(s, _)| *s)
            .collect();
        let mut counts = [0usize; BINS];
        for s in &scores {
            counts[(((s - lo) / width) as usize).min(BINS - 1)] += 1;
        }
        let total = scores.len().max(1) as f64;
        let points: Vec<(f64, f64)> = counts
            .iter()
            .enumerate()
            .map(|(b, &c)| (lo + (b as f64 + 0.5) * width, c as f64 / total))
            .collect();
        top = points.iter().fold(top, |t, p| t.max(p.1));
        groups.push((
            format!("{name} ({} images)", scores.len()),
            class_color(name),
            points,
        ));
    }
    LineChart {
        groups,
        x_label: "score (towards PNEUMONIA)".into(),
        y_label: "share of the class's images".into(),
        x_range: (lo, hi),
        y_range: (0.0, (top * 1.15).max(0.05)),
        diagonal: false,
        marks: Vec::new(),
        legend: SeriesLabelPosition::LowerRight,
    }
}
