//! Bar charts: images per subset (and later classes per subset, grouped or stacked).

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use polars::prelude::*;

use super::figure::{impl_chart, Figure};
use super::style::subset_color;
use super::style::FONT;
use crate::columns;
use crate::error::{PolarsContext, Result};
use crate::frame;

/// One named row of values, one value per category, with a colour per bar.
#[derive(Debug, Clone)]
pub(crate) struct BarSeries {
    pub name: String,
    pub values: Vec<f64>,
    pub colors: Vec<RGBColor>,
}

/// Bars grouped by category: one bar per series in each category.
#[derive(Debug, Clone)]
pub(crate) struct BarChart {
    pub categories: Vec<String>,
    pub series: Vec<BarSeries>,
    pub x_label: String,
    pub y_label: String,
}

impl_chart!(BarChart);

impl BarChart {
    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        title: &str,
    ) -> Result<(), String> {
        let n = self.categories.len();
        let k = self.series.len().max(1);
        let top = self
            .series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .fold(0.0f64, f64::max);
        let y_max = if top > 0.0 { top * 1.15 } else { 1.0 };
        let x_max = n.max(1) as f64 - 0.5;
        let mut chart = ChartBuilder::on(area)
            .caption(title, (FONT, 22))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5f64..x_max, 0f64..y_max)
            .map_err(|e| e.to_string())?;
        let categories = &self.categories;
        let label = |x: &f64| super::style::category_label(categories, *x);
        // Counts: whole-number ticks only, so a chart of small counts (or none) does not label
        // 0.2, 0.4, ... as "0, 0, 1, 1" (at most 10 ticks on larger ones).
        let ticks = (y_max.floor() as usize + 1).clamp(2, 10);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n.max(1))
            .y_labels(ticks)
            .x_label_formatter(&label)
            .y_label_formatter(&|y: &f64| format!("{y:.0}"))
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 15))
            .draw()
            .map_err(|e| e.to_string())?;

        if n == 0 {
            // An honest empty chart: axes and a note, no bars.
            chart
                .draw_series(std::iter::once(Text::new(
                    "no data",
                    (0.0, y_max / 2.0),
                    (FONT, 18)
                        .into_font()
                        .color(&BLACK.mix(0.6))
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                )))
                .map_err(|e| e.to_string())?;
            return Ok(());
        }
        for (s, series) in self.series.iter().enumerate() {
            draw_bars(&mut chart, series, s, k, y_max)?;
        }
        if k > 1 {
            chart
                .configure_series_labels()
                .label_font((FONT, 14))
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK.mix(0.3))
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// One series' bars (the `s`-th of `k` side by side in each category's 0.8 wide group), their
/// values above them, and its legend entry when there are several series.
fn draw_bars<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    series: &BarSeries,
    s: usize,
    k: usize,
    y_max: f64,
) -> Result<(), String> {
    let group = 0.8;
    let width = group / k as f64;
    let left = |i: usize| i as f64 - group / 2.0 + s as f64 * width;
    let bars = series.values.iter().enumerate().map(|(i, &v)| {
        let color = series.colors.get(i).copied().unwrap_or(BLACK);
        Rectangle::new(
            [(left(i) + 0.02, 0.0), (left(i) + width - 0.02, v)],
            color.filled(),
        )
    });
    let drawn = chart.draw_series(bars).map_err(|e| e.to_string())?;
    if k > 1 {
        let color = series.colors.first().copied().unwrap_or(BLACK);
        drawn
            .label(series.name.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 12, y + 6)], color.filled()));
    }
    let value_style = (FONT, 13)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Bottom));
    chart
        .draw_series(series.values.iter().enumerate().map(|(i, &v)| {
            Text::new(
                format!("{v:.0}"),
                (left(i) + width / 2.0, v + y_max * 0.01),
                value_style.clone(),
            )
        }))
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Images per subset, as the report's first bar chart.
///
/// Counts rows per `subset` when the table has that column (after a resplit), else per `split`
/// (the folders on disk). Subsets appear in the report's order (train, test, val), each in its
/// own colour, with the count above its bar.
pub fn images_per_subset(images: &DataFrame) -> Result<Figure> {
    let group = crate::subset::column_of(images, "images_per_subset")?;
    let counts = frame::fresh(images)
        .lazy()
        .group_by([col(group)])
        .agg([len().cast(DataType::Float64).alias("images")])
        .collect()
        .ctx("counting images per subset")?;
    let names = counts
        .column(group)
        .ctx("reading subset names")?
        .cast(&DataType::String)
        .ctx("subset names")?;
    let names = names.str().ctx("subset names")?;
    let values = counts
        .column("images")
        .ctx("reading counts")?
        .f64()
        .ctx("counts")?;
    let mut rows: Vec<(String, f64)> = names
        .iter()
        .zip(values.iter())
        .map(|(name, v)| (name.unwrap_or("(none)").to_string(), v.unwrap_or(0.0)))
        .collect();
    rows.sort_by_key(|(name, _)| crate::subset::Subset::from(name.as_str()));
    let chart = BarChart {
        categories: rows.iter().map(|r| r.0.clone()).collect(),
        series: vec![BarSeries {
            name: "images".into(),
            values: rows.iter().map(|r| r.1).collect(),
            colors: rows.iter().map(|r| subset_color(&r.0)).collect(),
        }],
        x_label: group.to_string(),
        y_label: "images".into(),
    };
    Ok(Figure::new("Images per subset", chart))
}

/// Images per subset and class as (subset, class, count) rows, subsets in the report's order.
pub(crate) fn subset_class_counts(
    images: &DataFrame,
    what: &str,
) -> Result<Vec<(String, String, f64)>> {
    let group = crate::subset::column_of(images, what)?;
    frame::require(images, &[columns::CLASS], what)?;
    let counts = crate::load::counts(images, group)?;
    let subsets = frame::column(&counts, group)?
        .cast(&DataType::String)
        .ctx("subset names")?;
    let classes = frame::column(&counts, columns::CLASS)?
        .cast(&DataType::String)
        .ctx("class names")?;
    let images = frame::column(&counts, "images")?
        .cast(&DataType::Float64)
        .ctx("counts")?;
    let rows = subsets
        .str()
        .ctx("subset names")?
        .iter()
        .zip(classes.str().ctx("class names")?.iter())
        .zip(images.f64().ctx("counts")?.iter())
        .map(|((s, c), n)| {
            (
                s.unwrap_or("(none)").to_string(),
                c.unwrap_or("(none)").to_string(),
                n.unwrap_or(0.0),
            )
        })
        .collect();
    Ok(rows)
}

/// Classes per subset as grouped bars: one group per subset (report order), one bar per class
/// in the class's colour, with the count above each bar.
///
/// Uses the `subset` column when present (after a resplit), else `split`.
pub fn classes_per_subset(images: &DataFrame) -> Result<Figure> {
    let rows = subset_class_counts(images, "classes_per_subset")?;
    let mut subsets: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    subsets.dedup();
    let mut classes: Vec<String> = rows.iter().map(|r| r.1.clone()).collect();
    classes.sort();
    classes.dedup();
    let series = classes
        .iter()
        .map(|class| BarSeries {
            name: class.clone(),
            values: subsets
                .iter()
                .map(|s| {
                    rows.iter()
                        .find(|r| &r.0 == s && &r.1 == class)
                        .map_or(0.0, |r| r.2)
                })
                .collect(),
            colors: vec![super::style::class_color(class); subsets.len()],
        })
        .collect();
    let chart = BarChart {
        categories: subsets,
        series,
        x_label: crate::subset::column_of(images, "classes_per_subset")?.to_string(),
        y_label: "images".into(),
    };
    Ok(Figure::new("Classes per subset", chart))
}

/// Images per subset for several tables side by side: one group per subset, one bar per table
/// (e.g. the Kaggle folders, the report's resplit and ours), each table in its own colour.
///
/// Each table is an image table with a `subset` (or `split`) column; a subset missing from one
/// table shows as a zero bar.
pub fn compare_subsets(tables: &[(&str, &DataFrame)]) -> Result<Figure> {
    const COLORS: [RGBColor; 4] = [
        RGBColor(0x8d, 0x99, 0xae),
        RGBColor(0xe9, 0xc4, 0x6a),
        RGBColor(0x26, 0x46, 0x53),
        RGBColor(0xb5, 0x65, 0x76),
    ];
    let mut per_table = Vec::new();
    let mut subsets: Vec<String> = Vec::new();
    for (name, images) in tables {
        let rows = subset_class_counts(images, "compare_subsets")?;
        let mut totals: Vec<(String, f64)> = Vec::new();
        for (subset, _, n) in rows {
            match totals.iter_mut().find(|t| t.0 == subset) {
                Some(t) => t.1 += n,
                None => totals.push((subset, n)),
            }
        }
        for (s, _) in &totals {
            if !subsets.contains(s) {
                subsets.push(s.clone());
            }
        }
        per_table.push((name.to_string(), totals));
    }
    subsets.sort_by_key(|s| crate::subset::Subset::from(s.as_str()));
    let series = per_table
        .iter()
        .enumerate()
        .map(|(i, (name, totals))| BarSeries {
            name: name.clone(),
            values: subsets
                .iter()
                .map(|s| totals.iter().find(|t| &t.0 == s).map_or(0.0, |t| t.1))
                .collect(),
            colors: vec![COLORS[i % COLORS.len()]; subsets.len()],
        })
        .collect();
    let chart = BarChart {
        categories: subsets,
        series,
        x_label: columns::SUBSET.into(),
        y_label: "images".into(),
    };
    Ok(Figure::new("Images per subset, compared", chart))
}
