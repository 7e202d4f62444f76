//! Dashboards: several figures composed into one image (plotters drawing areas), a legend that
//! explains the colours, and a self-contained HTML page with the figures and tables.

use std::fmt::Write as _;
use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use polars::prelude::*;

use super::figure::{impl_chart, Backend, Chart, Drawn, Figure};
use super::stems;
use super::style::FONT;
use super::style::{class_color, subset_color};
use crate::error::{Error, Result};

/// Panels on a grid, each drawn into its own drawing area.
#[derive(Debug, Clone)]
pub(crate) struct Panels {
    pub figures: Vec<Figure>,
    pub columns: usize,
}

impl Chart for Panels {
    fn draw_svg(&self, area: &DrawingArea<SVGBackend<'_>, Shift>, title: &str) -> Drawn {
        self.draw(area, title)
    }
    fn draw_rgb(&self, area: &DrawingArea<BitMapBackend<'_>, Shift>, title: &str) -> Drawn {
        self.draw(area, title)
    }
    fn has_raster(&self) -> bool {
        self.figures.iter().any(Figure::has_raster)
    }
}

impl Panels {
    fn draw<DB: Backend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        title: &str,
    ) -> std::result::Result<(), String> {
        let (w, _) = area.dim_in_pixel();
        area.draw(&Text::new(
            title.to_string(),
            (w as i32 / 2, 12),
            (FONT, 30)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))
        .map_err(|e| e.to_string())?;
        let body = area.margin(HEADER as i32, 0, 0, 0);
        let rows = self.figures.len().div_ceil(self.columns.max(1));
        let cells = body.split_evenly((rows.max(1), self.columns.max(1)));
        for (figure, cell) in self.figures.iter().zip(cells.iter()) {
            figure
                .draw_on(&cell.margin(6, 6, 6, 6))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

const HEADER: u32 = 60;

/// Compose `figures` into one dashboard image, `columns` panels a row, each panel 800 x 500
/// pixels (figures are drawn into their panel, whatever their own size).
///
/// ```
/// use xray_lab::prelude::*;
/// # let tmp = tempfile::tempdir()?;
/// # synth::SynthOptions::new().scale(0.01).write(tmp.path())?;
/// let images = load::scan(tmp.path())?.images;
/// let board = plot::dashboard(
///     "Images and classes",
///     vec![plot::images_per_subset(&images)?, plot::classes_per_subset(&images)?],
///     2,
/// )?;
/// assert_eq!(board.size(), (1600, 560));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn dashboard(title: &str, figures: Vec<Figure>, columns: usize) -> Result<Figure> {
    if figures.is_empty() {
        return Err(Error::Empty {
            what: format!("dashboard {title:?}"),
            item: "figure",
        });
    }
    let columns = columns.clamp(1, figures.len());
    let rows = figures.len().div_ceil(columns) as u32;
    Ok(Figure::new(title, Panels { figures, columns })
        .with_size(columns as u32 * 800, rows * 500 + HEADER))
}

/// What each colour means, for newcomers: the class colours, the subset colours, and what each
/// subset is for.
#[derive(Debug, Clone)]
pub(crate) struct Legend {
    pub entries: Vec<(RGBColor, String)>,
}

impl_chart!(Legend);

impl Legend {
    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        title: &str,
    ) -> std::result::Result<(), String> {
        area.draw(&Text::new(
            title.to_string(),
            (20, 16),
            (FONT, 22)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Top)),
        ))
        .map_err(|e| e.to_string())?;
        let (_, h) = area.dim_in_pixel();
        let step = ((h as i32 - 70) / self.entries.len().max(1) as i32).clamp(18, 40);
        for (k, (color, text)) in self.entries.iter().enumerate() {
            let y = 64 + k as i32 * step;
            area.draw(&Rectangle::new([(24, y - 9), (46, y + 9)], color.filled()))
                .map_err(|e| e.to_string())?;
            area.draw(&Text::new(
                text.clone(),
                (58, y),
                (FONT, 15)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// A legend of the colours used in every figure, with a line on what each class and subset is:
/// the panel the report's second dashboard added for newcomers.
pub fn color_legend() -> Figure {
    let entries = vec![
        (
            class_color("NORMAL"),
            "NORMAL: a healthy chest X-ray (label 0)".to_string(),
        ),
        (
            class_color("PNEUMONIA"),
            "PNEUMONIA: bacterial or viral pneumonia (label 1)".to_string(),
        ),
        (
            subset_color("train"),
            "train: the images the models learn from".to_string(),
        ),
        (
            subset_color("validation"),
            "validation: where penalties and thresholds are chosen".to_string(),
        ),
        (
            subset_color("test"),
            "test: held out, scored once at the end".to_string(),
        ),
        (
            subset_color("val"),
            "val: Kaggle's own 16-image folder (folded into train by default)".to_string(),
        ),
    ];
    Figure::new("What the colours mean", Legend { entries })
}

/// One self-contained HTML page: a title, an introduction, the figures (inline SVG, so it opens
/// from disk in any browser with no server and no network) and tables (e.g. counts and
/// metrics). Returns the HTML; [`save_page`] writes it.
pub fn html_page(
    title: &str,
    introduction: &str,
    figures: &[Figure],
    tables: &[(&str, &DataFrame)],
) -> Result<String> {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{t}</title>\n<style>\n\
         body {{ font-family: 'DejaVu Sans', Arial, sans-serif; margin: 2em auto; max-width: 1700px; color: #222; }}\n\
         h1 {{ font-size: 1.8em; }} h2 {{ font-size: 1.3em; margin-top: 1.6em; }}\n\
         figure {{ display: inline-block; margin: 0.6em; vertical-align: top; }}\n\
         figure svg {{ max-width: 100%; height: auto; border: 1px solid #ddd; }}\n\
         table {{ border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }}\n\
         th, td {{ border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }}\n\
         th {{ background: #f2f2f2; }} td.text {{ text-align: left; }}\n\
         </style>\n</head>\n<body>\n<h1>{t}</h1>\n<p>{i}</p>\n",
        t = escape(title),
        i = escape(introduction)
    );
    for (name, table) in tables {
        let _ = write!(html, "<h2>{}</h2>\n{}", escape(name), table_html(table)?);
    }
    if !figures.is_empty() {
        html.push_str("<h2>Figures</h2>\n");
    }
    for figure in figures {
        let svg = figure.to_svg()?;
        let svg = svg.trim_start_matches(|c| c != '<');
        let svg = match svg.find("<svg") {
            Some(start) => &svg[start..],
            None => svg,
        };
        let _ = write!(
            html,
            "<figure>\n{svg}\n<figcaption>{}</figcaption>\n</figure>\n",
            escape(figure.title())
        );
    }
    html.push_str("</body>\n</html>\n");
    Ok(html)
}

/// Write an HTML page made by [`html_page`] (through a temporary file and a rename).
pub fn save_page(html: &str, path: impl AsRef<Path>) -> Result<()> {
    crate::files::write_file(path.as_ref(), html.as_bytes())
}

fn escape(text: &str) -> String {
    crate::frame::escape_html(text)
}

fn table_html(table: &DataFrame) -> Result<String> {
    crate::frame::html_table(table, 3)
}

/// The report's three dashboards from its figures (as [`crate::report::Run::figures`] makes
/// them, each with its file stem): images and classes per subset, the proportions, and every
/// figure at once. `xray-lab report` and notebook 06 both draw them with this function.
pub fn report_dashboards(figures: &[(&str, Figure)]) -> Result<Vec<(&'static str, Figure)>> {
    let get = |stem: &str| -> Result<Figure> {
        figures
            .iter()
            .find(|(s, _)| *s == stem)
            .map(|(_, f)| f.clone())
            .ok_or_else(|| Error::NotFound {
                kind: "figure",
                name: stem.to_string(),
                known: figures
                    .iter()
                    .map(|(s, _)| *s)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    };
    let pick = |stems: [&str; 4]| stems.map(get).into_iter().collect::<Result<Vec<_>>>();
    Ok(vec![
        (
            "dashboard_simple",
            dashboard(
                "Dashboard 1: images and classes per subset",
                pick([
                    stems::IMAGES_BEFORE_AND_AFTER,
                    stems::IMAGES_PER_SUBSET,
                    stems::CLASSES_PER_SUBSET,
                    stems::CLASSES_STACKED,
                ])?,
                2,
            )?,
        ),
        (
            "dashboard_proportions",
            dashboard(
                "Dashboard 2: proportions",
                pick([
                    stems::CLASSES_PER_SUBSET,
                    stems::SUBSET_SHARES,
                    stems::POPULATION_GRAPH,
                    stems::COLOR_LEGEND,
                ])?,
                2,
            )?,
        ),
        (
            "dashboard_complete",
            dashboard(
                "Dashboard 3: the whole report",
                figures.iter().map(|(_, f)| f.clone()).collect(),
                4,
            )?,
        ),
    ])
}
