//! A grid of sample images per class, each beside the grayscale version the model sees: the
//! report's visual quality check.

use image::{imageops, GrayImage, Luma, Rgb, RgbImage};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use polars::prelude::*;

use super::figure::{impl_chart, Figure};
use super::style::class_color;
use super::style::FONT;
use crate::columns;
use crate::decode::DecodeOptions;
use crate::error::{Error, Result};
use crate::frame;

/// The side of each picture in the grid, in pixels.
const CELL: u32 = 150;
const GAP: u32 = 12;
const HEADER: u32 = 46;
const LABEL: u32 = 36;

/// A composed picture: drawn as pixels, embedded in SVG as a PNG.
#[derive(Debug, Clone)]
pub(crate) struct Raster {
    pub image: RgbImage,
}

impl_chart!(Raster, raster);

impl Raster {
    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, plotters::coord::Shift>,
        _title: &str,
    ) -> std::result::Result<(), String> {
        let (w, h) = area.dim_in_pixel();
        let scaled = if self.image.dimensions() == (w, h) {
            self.image.clone()
        } else {
            imageops::resize(&self.image, w, h, imageops::FilterType::Triangle)
        };
        for (x, y, p) in scaled.enumerate_pixels() {
            area.draw_pixel((x as i32, y as i32), &RGBColor(p.0[0], p.0[1], p.0[2]))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// Writes `text` on a figure drawn pixel by pixel (a [`Raster`]) in the figures' font, black,
/// anchored at `at` (horizontally as `h` says, centred vertically); a failure names `figure`.
pub(crate) fn write_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    figure: &str,
    text: &str,
    at: (i32, i32),
    size: u32,
    h: HPos,
) -> Result<()> {
    area.draw(&Text::new(
        text.to_string(),
        at,
        (FONT, size)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(h, VPos::Center)),
    ))
    .map_err(|e| Error::Plot {
        figure: figure.into(),
        reason: e.to_string(),
    })
}

/// `per_class` images of each class, in one row per class: each image as it is (fitted into a
/// square, its size written under it) beside the `options.side()` x `options.side()`
/// grayscale version that becomes its features. Samples are evenly spaced through each class's
/// rows, so the same table gives the same grid. A file that cannot be decoded shows as an empty
/// cell with the reason, never a failure.
pub fn sample_grid(
    images: &DataFrame,
    per_class: usize,
    options: &DecodeOptions,
) -> Result<Figure> {
    frame::require(images, &[columns::PATH, columns::CLASS], "the sample grid")?;
    let per_class = per_class.clamp(1, 12);
    let paths = crate::frame::strings(images, columns::PATH)?;
    let classes = crate::frame::strings(images, columns::CLASS)?;
    let mut names = classes.clone();
    names.sort();
    names.dedup();
    if names.is_empty() {
        return Err(Error::Empty {
            what: "the sample grid".into(),
            item: "image",
        });
    }
    let pair = 2 * CELL + GAP;
    let width = per_class as u32 * (pair + 2 * GAP) + GAP;
    let row = HEADER + CELL + LABEL;
    let height = names.len() as u32 * row + GAP;
    let mut canvas = RgbImage::from_pixel(width, height, Rgb([255, 255, 255]));
    let mut texts: Vec<Label> = Vec::new();

    for (r, class) in names.iter().enumerate() {
        let rows: Vec<usize> = (0..paths.len()).filter(|&i| &classes[i] == class).collect();
        let top = r as u32 * row + GAP;
        texts.push((
            format!("{class} ({} images)", rows.len()),
            (GAP as i32, top as i32 + 4),
            20,
            class_color(class),
        ));
        let picks = (0..per_class.min(rows.len())).map(|k| rows[k * rows.len() / per_class]);
        for (k, i) in picks.enumerate() {
            let at = (GAP + k as u32 * (pair + 2 * GAP), top + HEADER - 12);
            draw_pair(&mut canvas, &mut texts, &paths[i], at, options);
        }
    }
    draw_labels(&mut canvas, &texts)?;
    Ok(Figure::new(
        "Sample images per class, as they are and as the model sees them",
        Raster { image: canvas },
    )
    .with_size(width, height))
}

/// A line of text on the grid: what, where (left, top), its size, its colour.
type Label = (String, (i32, i32), u32, RGBColor);

/// One sample at `(left, y)`: the file as it is (fitted into a cell, with its size), the same
/// file as the model sees it, and its name; a file that cannot be read gets its reason instead.
fn draw_pair(
    canvas: &mut RgbImage,
    texts: &mut Vec<Label>,
    path: &str,
    (left, y): (u32, u32),
    options: &DecodeOptions,
) {
    let name = std::path::Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match original(path) {
        Ok((thumb, (w, h))) => {
            paste(canvas, &thumb, left, y);
            texts.push((
                format!("{w}x{h}"),
                (left as i32, (y + CELL + 4) as i32),
                13,
                BLACK,
            ));
        }
        Err(reason) => texts.push((reason, (left as i32, (y + CELL / 2) as i32), 12, RED)),
    }
    let right = left + CELL + GAP;
    match crate::decode::decode_file(path, options) {
        Ok(gray) => {
            let shown = if gray.dimensions() == (CELL, CELL) {
                gray
            } else {
                imageops::resize(&gray, CELL, CELL, imageops::FilterType::Nearest)
            };
            paste(canvas, &shown, right, y);
            texts.push((
                format!("{0}x{0} gray", options.side()),
                (right as i32, (y + CELL + 4) as i32),
                13,
                BLACK,
            ));
        }
        Err(e) => texts.push((
            e.to_string(),
            (right as i32, (y + CELL / 2) as i32),
            12,
            RED,
        )),
    }
    texts.push((
        shorten(&name, 36),
        (left as i32, (y + CELL + 19) as i32),
        12,
        RGBColor(90, 90, 90),
    ));
}

/// The labels drawn onto the canvas's pixels with the bundled font.
fn draw_labels(canvas: &mut RgbImage, texts: &[Label]) -> Result<()> {
    let plot_error = |e: &dyn std::fmt::Display| Error::Plot {
        figure: "sample grid".into(),
        reason: e.to_string(),
    };
    super::style::register_fonts();
    let size = canvas.dimensions();
    let backend = BitMapBackend::with_buffer(canvas.as_mut(), size);
    let area = backend.into_drawing_area();
    for (text, at, size, color) in texts {
        area.draw(&Text::new(
            text.clone(),
            *at,
            (FONT, *size)
                .into_font()
                .color(color)
                .pos(Pos::new(HPos::Left, VPos::Top)),
        ))
        .map_err(|e| plot_error(&e))?;
    }
    area.present().map_err(|e| plot_error(&e))
}

/// The image fitted into a CELL x CELL square (aspect kept, centred), and its size.
fn original(path: &str) -> std::result::Result<(GrayImage, (u32, u32)), String> {
    let image = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| format!("unreadable: {e}"))?
        .decode()
        .map_err(|e| shorten(&format!("cannot decode: {e}"), 40))?;
    let (w, h) = (image.width(), image.height());
    let thumb = image.thumbnail(CELL, CELL).to_luma8();
    let mut cell = GrayImage::from_pixel(CELL, CELL, Luma([255]));
    let (tw, th) = thumb.dimensions();
    imageops::overlay(
        &mut cell,
        &thumb,
        ((CELL - tw) / 2) as i64,
        ((CELL - th) / 2) as i64,
    );
    Ok((cell, (w, h)))
}

fn paste(canvas: &mut RgbImage, gray: &GrayImage, left: u32, top: u32) {
    for (x, y, p) in gray.enumerate_pixels() {
        let (cx, cy) = (left + x, top + y);
        if cx < canvas.width() && cy < canvas.height() {
            canvas.put_pixel(cx, cy, Rgb([p.0[0]; 3]));
        }
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(max - 1).collect::<String>())
    }
}
