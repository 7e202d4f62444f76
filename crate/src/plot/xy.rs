//! Scatter plots and histograms: image widths and heights per class, pixel intensities per class.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use polars::prelude::*;

use super::bars::{BarChart, BarSeries};
use super::figure::{impl_chart, Figure};
use super::style::class_color;
use super::style::FONT;
use crate::columns;
use crate::error::{PolarsContext, Result};
use crate::frame;

/// One named group of points, drawn in its colour.
pub(crate) type Group = (String, RGBColor, Vec<(f64, f64)>);

/// Points in named groups, a colour per group.
#[derive(Debug, Clone)]
pub(crate) struct ScatterChart {
    pub groups: Vec<Group>,
    pub x_label: String,
    pub y_label: String,
}

impl_chart!(ScatterChart);

/// Curves in named groups over shared x values: a histogram per group drawn as a translucent
/// area, so overlapping groups stay readable.
#[derive(Debug, Clone)]
pub(crate) struct CurveChart {
    pub groups: Vec<Group>,
    pub x_label: String,
    pub y_label: String,
}

impl_chart!(CurveChart);

fn bounds(groups: &[Group]) -> Option<(f64, f64, f64, f64)> {
    let points = groups.iter().flat_map(|g| g.2.iter());
    let mut b: Option<(f64, f64, f64, f64)> = None;
    for &(x, y) in points {
        if !(x.is_finite() && y.is_finite()) {
            continue;
        }
        b = Some(match b {
            None => (x, x, y, y),
            Some((x0, x1, y0, y1)) => (x0.min(x), x1.max(x), y0.min(y), y1.max(y)),
        });
    }
    b
}

fn no_data<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, title: &str) -> Result<(), String> {
    let (w, h) = area.dim_in_pixel();
    area.draw(&Text::new(
        title.to_string(),
        (w as i32 / 2, 20),
        (FONT, 22)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))
    .map_err(|e| e.to_string())?;
    area.draw(&Text::new(
        "no data",
        (w as i32 / 2, h as i32 / 2),
        (FONT, 18)
            .into_font()
            .color(&BLACK.mix(0.6))
            .pos(Pos::new(HPos::Center, VPos::Center)),
    ))
    .map_err(|e| e.to_string())
}

impl ScatterChart {
    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        title: &str,
    ) -> Result<(), String> {
        let Some((_, x1, _, y1)) = bounds(&self.groups) else {
            return no_data(area, title);
        };
        let mut chart = ChartBuilder::on(area)
            .caption(title, (FONT, 22))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..(x1 * 1.05).max(1.0), 0f64..(y1 * 1.05).max(1.0))
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&|x: &f64| format!("{x:.0}"))
            .y_label_formatter(&|y: &f64| format!("{y:.0}"))
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 15))
            .draw()
            .map_err(|e| e.to_string())?;
        for (name, color, points) in &self.groups {
            let color = *color;
            chart
                .draw_series(
                    points
                        .iter()
                        .map(|&(x, y)| Circle::new((x, y), 3, color.mix(0.75).filled())),
                )
                .map_err(|e| e.to_string())?
                .label(format!("{name} ({})", points.len()))
                .legend(move |(x, y)| Circle::new((x + 6, y), 4, color.filled()));
        }
        super::style::legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}

impl CurveChart {
    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        title: &str,
    ) -> Result<(), String> {
        let Some((x0, x1, _, y1)) = bounds(&self.groups) else {
            return no_data(area, title);
        };
        let x1 = if x1 > x0 { x1 } else { x0 + 1.0 };
        let mut chart = ChartBuilder::on(area)
            .caption(title, (FONT, 22))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, 0f64..(y1 * 1.1).max(1e-9))
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&|x: &f64| format!("{x:.0}"))
            .y_label_formatter(&|y: &f64| format!("{:.1}%", y * 100.0))
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 15))
            .draw()
            .map_err(|e| e.to_string())?;
        for (name, color, points) in &self.groups {
            let color = *color;
            chart
                .draw_series(AreaSeries::new(
                    points.iter().copied(),
                    0.0,
                    color.mix(0.25),
                ))
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    color.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 12, y + 6)], color.filled())
                });
        }
        super::style::legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}

fn texts(df: &DataFrame, name: &str) -> Result<Vec<String>> {
    crate::frame::strings(df, name)
}

fn floats(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>> {
    Ok(frame::column(df, name)?
        .cast(&DataType::Float64)
        .ctx("reading a numeric column")?
        .f64()
        .ctx("reading a numeric column")?
        .iter()
        .collect())
}

/// The colour of a statistic (min, max, mean, std) in the statistics plots.
fn stat_color(name: &str) -> RGBColor {
    match name {
        "min" => RGBColor(0x8e, 0xca, 0xe6),
        "max" => RGBColor(0x21, 0x9e, 0xbc),
        "mean" => RGBColor(0x02, 0x30, 0x47),
        _ => RGBColor(0xff, 0xb7, 0x03),
    }
}

/// Class names in the table, sorted (the order of labels).
fn class_names(classes: &[String]) -> Vec<String> {
    let mut names = classes.to_vec();
    names.sort();
    names.dedup();
    names
}

/// Image widths against heights, a point per image coloured by class: the report's size plot.
/// Takes the table from [`crate::facts::facts`]; images whose header could not be read are
/// left out.
pub fn image_sizes(facts: &DataFrame) -> Result<Figure> {
    frame::require(
        facts,
        &[columns::CLASS, "width", "height"],
        "the image-size plot",
    )?;
    scatter(
        facts,
        ["width", "height"],
        ["width (pixels)", "height (pixels)"],
        "Image sizes by class",
    )
}

/// Two numeric columns of `table` against each other, a point per row coloured by its `class`:
/// for example the 2-D projection of embeddings from [`crate::train::projection`]
/// (`scatter_by_class(&table, "pc1", "pc2", "...")`). Rows with a missing value are left out.
pub fn scatter_by_class(table: &DataFrame, x: &str, y: &str, title: &str) -> Result<Figure> {
    frame::require(table, &[columns::CLASS, x, y], "the scatter plot")?;
    scatter(table, [x, y], [x, y], title)
}

fn scatter(table: &DataFrame, [x, y]: [&str; 2], labels: [&str; 2], title: &str) -> Result<Figure> {
    let classes = texts(table, columns::CLASS)?;
    let (w, h) = (floats(table, x)?, floats(table, y)?);
    let groups = class_names(&classes)
        .into_iter()
        .map(|name| {
            let points = (0..classes.len())
                .filter(|&i| classes[i] == name)
                .filter_map(|i| Some((w[i]?, h[i]?)))
                .collect();
            let color = class_color(&name);
            (name, color, points)
        })
        .collect();
    let chart = ScatterChart {
        groups,
        x_label: labels[0].into(),
        y_label: labels[1].into(),
    };
    Ok(Figure::new(title, chart))
}

/// A histogram of one size column (`width`, `height`, or any numeric column such as `bytes`)
/// per class, as the share of the class's images in each of `bins` equal bins.
pub fn size_histogram(facts: &DataFrame, column: &str, bins: usize) -> Result<Figure> {
    frame::require(facts, &[columns::CLASS, column], "the size histogram")?;
    let bins = bins.max(1);
    let classes = texts(facts, columns::CLASS)?;
    let values = floats(facts, column)?;
    let known: Vec<f64> = values
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let lo = known.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = known.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let step = if hi > lo {
        (hi - lo) / bins as f64
    } else {
        1.0
    };
    let groups = if known.is_empty() {
        vec![]
    } else {
        class_names(&classes)
            .into_iter()
            .map(|name| {
                let mut counts = vec![0f64; bins];
                for (c, v) in classes.iter().zip(&values) {
                    if let (true, Some(v)) = (*c == name, v) {
                        let b = (((v - lo) / step) as usize).min(bins - 1);
                        counts[b] += 1.0;
                    }
                }
                let total = counts.iter().sum::<f64>().max(1.0);
                let points = counts
                    .iter()
                    .enumerate()
                    .map(|(b, n)| (lo + (b as f64 + 0.5) * step, n / total))
                    .collect();
                let color = class_color(&name);
                (name, color, points)
            })
            .collect()
    };
    let chart = CurveChart {
        groups,
        x_label: format!("{column} (bin centre)"),
        y_label: "share of the class's images".into(),
    };
    Ok(Figure::new(format!("Image {column} by class"), chart))
}

/// The report's min/max/mean/std of a size (`width` or `height`) per subset, as grouped bars.
/// Takes the table from [`crate::facts::size_stats`].
pub fn size_stats_per_subset(stats: &DataFrame, dimension: &str) -> Result<Figure> {
    let group = crate::subset::column_of(stats, "size statistics")?;
    let names = ["min", "max", "mean", "std"];
    let columns: Vec<String> = names.iter().map(|s| format!("{dimension}_{s}")).collect();
    let needed: Vec<&str> = columns.iter().map(String::as_str).collect();
    frame::require(stats, &needed, "the size statistics plot")?;
    let categories = texts(stats, group)?;
    let mut series = Vec::new();
    for (name, column) in names.iter().zip(&columns) {
        let color = stat_color(name);
        series.push(BarSeries {
            name: name.to_string(),
            values: floats(stats, column)?
                .into_iter()
                .map(|v| v.unwrap_or(0.0))
                .collect(),
            colors: vec![color; categories.len()],
        });
    }
    let chart = BarChart {
        categories,
        series,
        x_label: group.into(),
        y_label: format!("{dimension} (pixels)"),
    };
    Ok(Figure::new(
        format!("Image {dimension}: min, max, mean and std per {group}"),
        chart,
    ))
}

/// Pixel-intensity histograms per class (the resized grayscale images, 0-255), as shares of
/// each class's pixels, four gray levels per point. Takes the table from
/// [`Features::intensity_histograms`](crate::decode::Features::intensity_histograms).
pub fn intensity_histograms(histograms: &DataFrame) -> Result<Figure> {
    frame::require(
        histograms,
        &[columns::CLASS, "intensity", "share"],
        "the intensity plot",
    )?;
    let classes = texts(histograms, columns::CLASS)?;
    let x = floats(histograms, "intensity")?;
    let y = floats(histograms, "share")?;
    // Four gray levels per point (64 points): single levels are spiky where large flat areas
    // (background, collimation) share one value, which hides the shape of the distribution.
    const LEVELS: f64 = 4.0;
    let groups = class_names(&classes)
        .into_iter()
        .map(|name| {
            let mut sums: std::collections::BTreeMap<i64, f64> = Default::default();
            for i in (0..classes.len()).filter(|&i| classes[i] == name) {
                if let (Some(x), Some(y)) = (x[i], y[i]) {
                    *sums.entry((x / LEVELS).floor() as i64).or_default() += y;
                }
            }
            let points = sums
                .into_iter()
                .map(|(b, share)| ((b as f64 + 0.5) * LEVELS, share))
                .collect();
            let color = class_color(&name);
            (name, color, points)
        })
        .collect();
    let chart = CurveChart {
        groups,
        x_label: "pixel intensity (0 black - 255 white), 4 levels per point".into(),
        y_label: "share of the class's pixels".into(),
    };
    Ok(Figure::new("Pixel intensities by class", chart))
}

/// Pixel-intensity mean, std, min and max per subset (rows of class `all` of
/// [`Features::intensity_stats`](crate::decode::Features::intensity_stats)), as grouped bars
/// coloured per subset: the report's intensity statistics per subset.
pub fn intensity_stats_per_subset(stats: &DataFrame) -> Result<Figure> {
    let group = crate::subset::column_of(stats, "intensity statistics")?;
    frame::require(
        stats,
        &[columns::CLASS, "mean", "std", "min", "max"],
        "the intensity statistics plot",
    )?;
    let classes = texts(stats, columns::CLASS)?;
    let subsets = texts(stats, group)?;
    let rows: Vec<usize> = (0..classes.len())
        .filter(|&i| classes[i] == "all")
        .collect();
    let names = ["min", "max", "mean", "std"];
    let mut series = Vec::new();
    for name in names {
        let values = floats(stats, name)?;
        series.push(BarSeries {
            name: name.to_string(),
            values: rows.iter().map(|&i| values[i].unwrap_or(0.0)).collect(),
            colors: vec![stat_color(name); rows.len()],
        });
    }
    let chart = BarChart {
        categories: rows.iter().map(|&i| subsets[i].clone()).collect(),
        series,
        x_label: group.into(),
        y_label: "pixel intensity (0-255)".into(),
    };
    Ok(Figure::new(
        format!("Pixel intensity: min, max, mean and std per {group}"),
        chart,
    ))
}
