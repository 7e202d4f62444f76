//! A model's results as pictures: the confusion matrices and a linear model's weights as an
//! image.

use image::{Rgb, RgbImage};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;

use super::figure::Figure;
use super::grid::{write_text, Raster};
use super::model::no_results;
use crate::error::{Error, Result};
use crate::subset::Subset;
use crate::train::{Evaluation, Model, Scored};

const CELL: u32 = 110;

/// The confusion matrix of every model on `subset`, side by side: rows are the true class,
/// columns the predicted one, each cell's count and share of its row, shaded by that share.
pub fn confusion_matrices(evaluation: &Evaluation, subset: impl Into<Subset>) -> Result<Figure> {
    let subset = subset.into();
    let results: Vec<_> = evaluation
        .results
        .iter()
        .filter(|r| r.subset == subset)
        .collect();
    if results.is_empty() {
        return Err(no_results("confusion matrices", &subset));
    }
    let per_row = 3usize;
    let (panel_w, panel_h) = (2 * CELL + 170, 2 * CELL + 110);
    let rows = results.len().div_ceil(per_row) as u32;
    let width = per_row as u32 * panel_w + 20;
    let height = rows * panel_h + 60;
    let mut canvas = RgbImage::from_pixel(width, height, Rgb([255, 255, 255]));
    let fail = |e: String| Error::Plot {
        figure: "confusion matrices".into(),
        reason: e,
    };
    super::style::register_fonts();
    {
        let area = BitMapBackend::with_buffer(canvas.as_mut(), (width, height)).into_drawing_area();
        let text = |s: &str, at: (i32, i32), size: u32, h: HPos| {
            write_text(&area, "confusion matrices", s, at, size, h)
        };
        text(
            &format!("Confusion matrices on {subset} (rows: true class, columns: predicted)"),
            (width as i32 / 2, 24),
            22,
            HPos::Center,
        )?;
        for (k, r) in results.iter().enumerate() {
            let left = 10 + (k % per_row) as i32 * panel_w as i32;
            let top = 60 + (k / per_row) as i32 * panel_h as i32;
            text(
                r.model.name(),
                (left + panel_w as i32 / 2, top + 10),
                16,
                HPos::Center,
            )?;
            confusion_panel(&area, r, (left + 130, top + 45))?;
        }
        area.present().map_err(|e| fail(e.to_string()))?;
    }
    Ok(Figure::new(
        format!("Confusion matrices on {subset}"),
        Raster { image: canvas },
    )
    .with_size(width, height))
}

/// The side of the square image `count` weights make, or why they make none.
fn square_side(model: &Model, count: usize) -> Result<usize> {
    let side = (count as f64).sqrt().round() as usize;
    if side * side != count || side == 0 {
        return Err(Error::ShapeMismatch {
            what: format!("the weights of model {:?}", model.kind),
            expected: "one per pixel of a square image".into(),
            found: format!("it has {count}"),
        });
    }
    Ok(side)
}

/// Coral for `v > 0` (towards PNEUMONIA), teal for `v < 0`, white at 0, full at `±scale`.
fn diverging(v: f64, scale: f64) -> Rgb<u8> {
    let t = (v / scale).clamp(-1.0, 1.0);
    let (base, t) = if t >= 0.0 {
        ((0xe7, 0x6f, 0x51), t)
    } else {
        ((0x2a, 0x9d, 0x8f), -t)
    };
    let mix = |b: u8| (255.0 - (255.0 - b as f64) * t) as u8;
    Rgb([mix(base.0), mix(base.1), mix(base.2)])
}

/// Each weight as a `zoom x zoom` square of its colour, the image's top left at `(left, top)`.
fn paint_weights(
    canvas: &mut RgbImage,
    weights: &[f64],
    side: usize,
    zoom: u32,
    (left, top): (u32, u32),
    scale: f64,
) {
    for (i, &w) in weights.iter().enumerate() {
        let (x, y) = ((i % side) as u32, (i / side) as u32);
        let c = diverging(w, scale);
        for dy in 0..zoom {
            for dx in 0..zoom {
                canvas.put_pixel(left + x * zoom + dx, top + y * zoom + dy, c);
            }
        }
    }
}

/// One model's 2x2 table with its top-left cell at `(x0, y0)`: true class by row, predicted by
/// column, each cell its count and its share of the row, shaded by that share (green where the
/// prediction is right, orange where it is wrong), with the class names beside.
fn confusion_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    result: &Scored,
    (x0, y0): (i32, i32),
) -> Result<()> {
    let text = |s: &str, at: (i32, i32), size: u32, h: HPos| {
        write_text(area, "confusion matrices", s, at, size, h)
    };
    let cell = CELL as i32;
    let c = result.metrics.confusion;
    let cells = [[c.tn, c.fp], [c.fn_, c.tp]];
    for (t, name) in ["NORMAL", "PNEUMONIA"].iter().enumerate() {
        let t_at = t as i32 * cell;
        text(name, (x0 - 8, y0 + t_at + cell / 2), 14, HPos::Right)?;
        text(
            name,
            (x0 + t_at + cell / 2, y0 + 2 * cell + 14),
            14,
            HPos::Center,
        )?;
        let row_total = (cells[t][0] + cells[t][1]).max(1) as f64;
        for (p, &count) in cells[t].iter().enumerate() {
            let share = count as f64 / row_total;
            let base = if t == p {
                RGBColor(0x2a, 0x9d, 0x8f)
            } else {
                RGBColor(0xe7, 0x6f, 0x51)
            };
            let shade = |b: u8| (255.0 - (255.0 - b as f64) * share) as u8;
            let fill = RGBColor(shade(base.0), shade(base.1), shade(base.2));
            let (cx, cy) = (x0 + p as i32 * cell, y0 + t_at);
            area.draw(&Rectangle::new(
                [(cx, cy), (cx + cell - 3, cy + cell - 3)],
                fill.filled(),
            ))
            .map_err(|e| Error::Plot {
                figure: "confusion matrices".into(),
                reason: e.to_string(),
            })?;
            let middle = (cx + cell / 2, cy + cell / 2);
            text(
                &count.to_string(),
                (middle.0, middle.1 - 10),
                20,
                HPos::Center,
            )?;
            let percent = format!("{:.0}%", share * 100.0);
            text(&percent, (middle.0, middle.1 + 14), 14, HPos::Center)?;
        }
    }
    Ok(())
}

/// A linear model's weights drawn as an image (`side x side`, one weight per pixel, enlarged):
/// coral where a bright pixel pushes towards PNEUMONIA, teal towards NORMAL, white for no
/// effect; colours scaled to the 99th percentile of the absolute weights, so one extreme pixel
/// does not wash out the rest. The intercept is written under the image.
pub fn coefficient_image(model: &Model) -> Result<Figure> {
    let weights = model
        .estimator
        .weights()
        .ok_or_else(|| Error::Incompatible {
            what: format!("model {:?}", model.kind),
            reason: "it is not linear: it has no weights to draw".into(),
        })?;
    let side = square_side(model, weights.len())?;
    let mut magnitudes: Vec<f64> = weights.iter().map(|w| w.abs()).collect();
    magnitudes.sort_by(|a, b| a.total_cmp(b));
    let scale = magnitudes[(magnitudes.len() * 99 / 100).min(magnitudes.len() - 1)].max(1e-300);
    let zoom = (480 / side).max(1) as u32;
    let (pic, bar) = (side as u32 * zoom, 24u32);
    let (width, height) = (pic + 140, pic + 90);
    let mut canvas = RgbImage::from_pixel(width, height, Rgb([255, 255, 255]));
    let (left, top) = (20u32, 60u32);
    let bar_left = left + pic + 20;
    paint_weights(&mut canvas, weights, side, zoom, (left, top), scale);
    // The colour bar: +scale at the top, -scale at the bottom.
    for y in 0..pic {
        let v = scale * (1.0 - 2.0 * y as f64 / pic.max(2) as f64);
        for x in 0..bar {
            canvas.put_pixel(bar_left + x, top + y, diverging(v, scale));
        }
    }
    let fail = |e: String| Error::Plot {
        figure: "coefficient image".into(),
        reason: e,
    };
    super::style::register_fonts();
    {
        let area = BitMapBackend::with_buffer(canvas.as_mut(), (width, height)).into_drawing_area();
        let text = |s: String, at: (i32, i32), size: u32| {
            write_text(&area, "coefficient image", &s, at, size, HPos::Left)
        };
        text(
            format!("{}: weight per pixel ({side}x{side})", model.kind),
            (left as i32, 22),
            20,
        )?;
        text(
            "coral: brighter pushes to PNEUMONIA, teal: to NORMAL".into(),
            (left as i32, 46),
            14,
        )?;
        let bx = (bar_left + bar + 6) as i32;
        text(format!("{scale:+.1e}"), (bx, top as i32 + 6), 12)?;
        text("0".into(), (bx, (top + pic / 2) as i32), 12)?;
        text(format!("{:+.1e}", -scale), (bx, (top + pic) as i32 - 6), 12)?;
        if let Some(b) = model.estimator.intercept() {
            text(
                format!("score = intercept {b:+.4} + sum of weight x pixel (pixels in [0, 1])"),
                (left as i32, (top + pic) as i32 + 16),
                14,
            )?;
        }
        area.present().map_err(|e| fail(e.to_string()))?;
    }
    Ok(Figure::new(
        format!("{}: weights as an image", model.kind),
        Raster { image: canvas },
    )
    .with_size(width, height))
}
