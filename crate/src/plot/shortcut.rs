//! Figures of the shortcut lesson: the acquisition facts per class, and occlusion maps (one
//! image's, and every model's averaged per class).

use image::{Rgb, RgbImage};
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;
use polars::prelude::*;

use super::bars::{BarChart, BarSeries};
use super::figure::Figure;
use super::grid::{write_text, Raster};
use crate::columns;
use crate::occlusion::{ClassMaps, Occlusion, CORNER, LUNGS};
use crate::{frame, Error, Result};

/// The header facts per class as grouped bars (percent of each class's files with EXIF, an ICC
/// profile, a progressive scan, RGB channels, a JFIF density in dpi), from the table of
/// [`crate::shortcut::acquisition`]. On the Kaggle files the two classes' bars barely overlap.
pub fn acquisition(table: &DataFrame) -> Result<Figure> {
    // The tall bars first: the legend sits upper right.
    let facts = ["EXIF", "ICC", "dpi", "progressive", "RGB"];
    let mut needed = vec![columns::CLASS];
    needed.extend(facts);
    frame::require(table, &needed, "the acquisition figure")?;
    let classes = frame::strings(table, columns::CLASS)?;
    let series = classes
        .iter()
        .enumerate()
        .map(|(row, class)| {
            let values = facts
                .iter()
                .map(|f| Ok(100.0 * frame::floats(table, f)?[row]))
                .collect::<Result<Vec<f64>>>()?;
            Ok(BarSeries {
                name: class.clone(),
                values,
                colors: vec![super::style::class_color(class); facts.len()],
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let chart = BarChart {
        categories: ["EXIF", "ICC profile", "JFIF in dpi", "progressive", "RGB"]
            .map(String::from)
            .to_vec(),
        series,
        x_label: "what the file's header says".into(),
        y_label: "% of the class's files".into(),
    };
    Ok(Figure::new(
        "The file tells the class: header facts per class",
        chart,
    ))
}

/// Coral over gray: `pixel` (0-1) as gray, tinted coral as `heat` goes from 0 to 1.
fn tint(pixel: f32, heat: f32, negative: bool) -> Rgb<u8> {
    let g = pixel.clamp(0.0, 1.0) * 255.0;
    let (r, gg, b) = if negative {
        (0x2a as f32, 0x9d as f32, 0x8f as f32)
    } else {
        (0xe7 as f32, 0x6f as f32, 0x51 as f32)
    };
    let t = heat.clamp(0.0, 1.0) * 0.85;
    let mix = |c: f32| (g + (c - g) * t) as u8;
    Rgb([mix(r), mix(gg), mix(b)])
}

/// Draws a `side x side` image with a map over it into `canvas` at `(left, top)`, `zoom`
/// pixels per value, with the lung region and the corners outlined.
#[allow(clippy::too_many_arguments)]
fn draw_tile(
    canvas: &mut RgbImage,
    (left, top): (u32, u32),
    zoom: u32,
    side: usize,
    pixels: &[f32],
    map: &[f32],
    scale: f32,
    signed: bool,
) {
    for i in 0..side * side {
        let (x, y) = ((i % side) as u32, (i / side) as u32);
        let v = map[i] / scale.max(1e-12);
        let c = tint(pixels[i], v.abs(), signed && v < 0.0);
        for dy in 0..zoom {
            for dx in 0..zoom {
                canvas.put_pixel(left + x * zoom + dx, top + y * zoom + dy, c);
            }
        }
    }
    let pic = side as u32 * zoom;
    let outline = Rgb([0xff, 0xd1, 0x66]);
    let frac = |f: f64| (f * pic as f64).round() as u32;
    let mut rect = |x0: u32, y0: u32, x1: u32, y1: u32| {
        for x in x0..x1.min(pic) {
            canvas.put_pixel(left + x, top + y0.min(pic - 1), outline);
            canvas.put_pixel(left + x, top + (y1.max(1) - 1).min(pic - 1), outline);
        }
        for y in y0..y1.min(pic) {
            canvas.put_pixel(left + x0.min(pic - 1), top + y, outline);
            canvas.put_pixel(left + (x1.max(1) - 1).min(pic - 1), top + y, outline);
        }
    };
    rect(
        frac(LUNGS[0]),
        frac(LUNGS[1]),
        frac(LUNGS[2]),
        frac(LUNGS[3]),
    );
    let c = frac(CORNER);
    for (x0, y0) in [(0, 0), (pic - c, 0), (0, pic - c), (pic - c, pic - c)] {
        rect(x0, y0, x0 + c, y0 + c);
    }
}

/// One image's occlusion map beside the image: coral where covering the image lowers the
/// PNEUMONIA score (the model reads PNEUMONIA there), teal where it raises it; the lung region
/// and the corners outlined in yellow; drawn on the decoded image the map was made on.
pub fn occlusion_map(title: &str, occlusion: &Occlusion) -> Result<Figure> {
    let side = occlusion.side;
    let pixels = &occlusion.image;
    if pixels.len() != side * side {
        return Err(Error::ShapeMismatch {
            what: "an occlusion figure".into(),
            expected: format!("an image of {side}x{side} values, as the map"),
            found: format!("the image has {}", pixels.len()),
        });
    }
    let zoom = (300 / side).max(1) as u32;
    let pic = side as u32 * zoom;
    let (width, height) = (2 * pic + 60, pic + 110);
    let mut canvas = RgbImage::from_pixel(width, height, Rgb([255, 255, 255]));
    let none = vec![0.0f32; side * side];
    draw_tile(&mut canvas, (20, 60), zoom, side, pixels, &none, 1.0, false);
    let peak = occlusion.peak();
    draw_tile(
        &mut canvas,
        (40 + pic, 60),
        zoom,
        side,
        pixels,
        &occlusion.map,
        peak,
        true,
    );
    let regions = occlusion.regions();
    super::style::register_fonts();
    {
        let area = BitMapBackend::with_buffer(canvas.as_mut(), (width, height)).into_drawing_area();
        let text = |s: String, at: (i32, i32), size: u32| {
            write_text(&area, "occlusion map", &s, at, size, HPos::Left)
        };
        text(title.to_string(), (20, 20), 18)?;
        text(
            format!(
                "score {:.3}; patch {} px, stride {}; coral: covering lowers the PNEUMONIA score, teal: raises it",
                occlusion.score, occlusion.patch, occlusion.stride
            ),
            (20, 44),
            12,
        )?;
        text(
            if peak > 0.0 {
                format!(
                    "largest change {peak:.3}; share of the effect: lungs {:.0}%, corners {:.0}%, border {:.0}%",
                    100.0 * regions.lungs,
                    100.0 * regions.corners,
                    100.0 * regions.border
                )
            } else {
                "covering the pixels never changes the score: this model does not read them".into()
            },
            (20, (60 + pic + 24) as i32),
            13,
        )?;
        area.present().map_err(|e| Error::Plot {
            figure: "occlusion map".into(),
            reason: e.to_string(),
        })?;
    }
    Ok(Figure::new(title.to_string(), Raster { image: canvas }).with_size(width, height))
}

/// Every model's occlusion maps averaged per class ([`crate::occlusion::average_maps`]): a row
/// per model, NORMAL then PNEUMONIA (label 0, then 1), each the class's mean image tinted where covering it
/// changed the score (scaled per model), with the share of the effect in the lung region.
pub fn occlusion_averages(maps: &[ClassMaps]) -> Result<Figure> {
    let side = maps.first().map(|m| m.side).unwrap_or(0);
    if side == 0 || maps.iter().any(|m| m.side != side) {
        return Err(Error::Incompatible {
            what: "average occlusion maps".into(),
            reason: "give at least one model's maps, all of one side".into(),
        });
    }
    let zoom = (160 / side).max(1) as u32;
    let pic = side as u32 * zoom;
    let (label, gap, row_h) = (200u32, 20u32, pic + 40);
    let width = label + 2 * (pic + gap) + 20;
    let height = 76 + row_h * maps.len() as u32;
    let mut canvas = RgbImage::from_pixel(width, height, Rgb([255, 255, 255]));
    for (r, m) in maps.iter().enumerate() {
        let peak = m.maps.iter().flatten().fold(0.0f32, |a, v| a.max(v.abs()));
        for class in 0..2 {
            let at = (label + class as u32 * (pic + gap), 66 + r as u32 * row_h);
            draw_tile(
                &mut canvas,
                at,
                zoom,
                side,
                &m.images[class],
                &m.maps[class],
                peak,
                false,
            );
        }
    }
    super::style::register_fonts();
    {
        let area = BitMapBackend::with_buffer(canvas.as_mut(), (width, height)).into_drawing_area();
        let text = |s: &str, at: (i32, i32), size: u32| {
            write_text(&area, "average occlusion maps", s, at, size, HPos::Left)
        };
        text(
            "Where each model looks: mean occlusion map per class",
            (20, 20),
            18,
        )?;
        text(
            "coral: covering the place changes the score (scaled per model); yellow: lung region and corners",
            (20, 42),
            12,
        )?;
        for (class, name) in maps[0].classes.iter().enumerate() {
            text(name, ((label + class as u32 * (pic + gap)) as i32, 56), 12)?;
        }
        for (r, m) in maps.iter().enumerate() {
            let y = (66 + r as u32 * row_h) as i32;
            text(&m.model, (10, y + 14), 13)?;
            for (class, regions) in m.regions().iter().enumerate() {
                let x = (label + class as u32 * (pic + gap)) as i32;
                let words = if regions.lungs.is_nan() {
                    "no effect: reads no pixel".to_string()
                } else {
                    format!(
                        "lungs {:.0}%, corners {:.0}%",
                        100.0 * regions.lungs,
                        100.0 * regions.corners
                    )
                };
                text(&words, (x, y + pic as i32 + 12), 11)?;
            }
        }
        area.present().map_err(|e| Error::Plot {
            figure: "average occlusion maps".into(),
            reason: e.to_string(),
        })?;
    }
    Ok(Figure::new(
        "Where each model looks: mean occlusion map per class",
        Raster { image: canvas },
    )
    .with_size(width, height))
}
