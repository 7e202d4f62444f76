//! Proportions: classes per subset as stacked bars with percentages, subset shares as a pie, and
//! the report's "population graph" (NORMAL to one side, PNEUMONIA to the other, a row per subset).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use polars::prelude::*;

use super::figure::{impl_chart, Figure};
use super::style::FONT;
use super::style::{class_color, subset_color};
use crate::columns;
use crate::error::Result;

/// Counts per (subset, class), in the report's subset order, with the classes sorted.
#[derive(Debug, Clone)]
pub(crate) struct Shares {
    pub subsets: Vec<String>,
    pub classes: Vec<String>,
    /// counts[subset][class]
    pub counts: Vec<Vec<f64>>,
}

impl Shares {
    fn of(images: &DataFrame, figure: &str) -> Result<Shares> {
        let rows = super::bars::subset_class_counts(images, figure)?;
        let mut subsets: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
        subsets.dedup();
        let mut classes: Vec<String> = rows.iter().map(|r| r.1.clone()).collect();
        classes.sort();
        classes.dedup();
        let counts = subsets
            .iter()
            .map(|s| {
                classes
                    .iter()
                    .map(|c| {
                        rows.iter()
                            .find(|r| &r.0 == s && &r.1 == c)
                            .map_or(0.0, |r| r.2)
                    })
                    .collect()
            })
            .collect();
        Ok(Shares {
            subsets,
            classes,
            counts,
        })
    }
    fn total(&self, s: usize) -> f64 {
        self.counts[s].iter().sum()
    }
}

/// Which proportion chart to draw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ShareKind {
    Stacked,
    Pie,
    Population,
}

#[derive(Debug, Clone)]
pub(crate) struct ShareChart {
    pub shares: Shares,
    pub kind: ShareKind,
}

impl_chart!(ShareChart);

fn caption<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
) -> std::result::Result<(), String> {
    let (w, _) = area.dim_in_pixel();
    area.draw(&Text::new(
        title.to_string(),
        (w as i32 / 2, 14),
        (FONT, 22)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))
    .map_err(|e| e.to_string())
}

fn centred(size: u32) -> TextStyle<'static> {
    (FONT, size)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Center))
}

impl ShareChart {
    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        title: &str,
    ) -> std::result::Result<(), String> {
        let s = &self.shares;
        // An empty table has neither; the charts below index the first class.
        if s.subsets.is_empty() || s.classes.is_empty() {
            caption(area, title)?;
            let (w, h) = area.dim_in_pixel();
            return area
                .draw(&Text::new(
                    "no data",
                    (w as i32 / 2, h as i32 / 2),
                    centred(18),
                ))
                .map_err(|e| e.to_string());
        }
        match self.kind {
            ShareKind::Stacked => self.stacked(area, title),
            ShareKind::Pie => self.pie(area, title),
            ShareKind::Population => self.population(area, title),
        }
    }

    fn stacked<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        title: &str,
    ) -> std::result::Result<(), String> {
        let s = &self.shares;
        let n = s.subsets.len();
        let top = (0..n).map(|i| s.total(i)).fold(0.0, f64::max).max(1.0) * 1.1;
        let mut chart = ChartBuilder::on(area)
            .caption(title, (FONT, 22))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5f64..n as f64 - 0.5, 0f64..top)
            .map_err(|e| e.to_string())?;
        let names = s.subsets.clone();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|x: &f64| super::style::category_label(&names, *x))
            .y_label_formatter(&|y: &f64| format!("{y:.0}"))
            .x_desc(columns::SUBSET)
            .y_desc("images")
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 15))
            .draw()
            .map_err(|e| e.to_string())?;
        for (c, class) in s.classes.iter().enumerate() {
            let color = class_color(class);
            let segments: Vec<(f64, f64, f64, f64)> = (0..n)
                .map(|i| {
                    let below: f64 = s.counts[i][..c].iter().sum();
                    let v = s.counts[i][c];
                    (i as f64, below, below + v, v / s.total(i).max(1.0))
                })
                .collect();
            chart
                .draw_series(segments.iter().map(|&(x, lo, hi, _)| {
                    Rectangle::new([(x - 0.35, lo), (x + 0.35, hi)], color.filled())
                }))
                .map_err(|e| e.to_string())?
                .label(class.as_str())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 12, y + 6)], color.filled())
                });
            chart
                .draw_series(
                    segments
                        .iter()
                        .filter(|seg| seg.2 - seg.1 > top * 0.06)
                        .map(|&(x, lo, hi, share)| {
                            Text::new(
                                format!("{:.0} ({:.0}%)", hi - lo, share * 100.0),
                                (x, (lo + hi) / 2.0),
                                (FONT, 14)
                                    .into_font()
                                    .color(&WHITE)
                                    .pos(Pos::new(HPos::Center, VPos::Center)),
                            )
                        }),
                )
                .map_err(|e| e.to_string())?;
        }
        super::style::legend(&mut chart, SeriesLabelPosition::UpperRight)
    }

    fn pie<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        title: &str,
    ) -> std::result::Result<(), String> {
        let s = &self.shares;
        caption(area, title)?;
        let (w, h) = area.dim_in_pixel();
        let sizes: Vec<f64> = (0..s.subsets.len()).map(|i| s.total(i)).collect();
        let total: f64 = sizes.iter().sum::<f64>().max(1.0);
        let colors: Vec<RGBColor> = s.subsets.iter().map(|n| subset_color(n)).collect();
        let labels: Vec<String> = s
            .subsets
            .iter()
            .zip(&sizes)
            .map(|(n, v)| format!("{n}: {v:.0} ({:.1}%)", v / total * 100.0))
            .collect();
        // plotters' Pie takes its centre in the backend's pixels, not the area's: offset it by
        // the area's corner, or a pie in a dashboard panel lands in the top-left panel.
        let (bx, by) = area.get_base_pixel();
        let center = (bx + w as i32 / 2, by + h as i32 / 2 + 18);
        let radius = (w.min(h) as f64 / 2.0 - 70.0).max(20.0);
        let mut pie = Pie::new(&center, &radius, &sizes, &colors, &labels);
        pie.start_angle(-90.0);
        pie.label_style((FONT, 15).into_font().color(&BLACK));
        pie.label_offset(35.0);
        pie.percentages((FONT, 14).into_font().color(&WHITE));
        area.draw(&pie).map_err(|e| e.to_string())
    }

    fn population<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        title: &str,
    ) -> std::result::Result<(), String> {
        let s = &self.shares;
        let n = s.subsets.len();
        // First class to the left, the others stacked to the right (two classes: NORMAL left,
        // PNEUMONIA right).
        let left = |i: usize| s.counts[i][0];
        let right = |i: usize| s.counts[i][1..].iter().sum::<f64>();
        let m = (0..n)
            .map(|i| left(i).max(right(i)))
            .fold(0.0, f64::max)
            .max(1.0)
            * 1.35;
        let mut chart = ChartBuilder::on(area)
            .caption(title, (FONT, 22))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(90)
            .build_cartesian_2d(-m..m, -0.5f64..n as f64 - 0.5)
            .map_err(|e| e.to_string())?;
        let names: Vec<String> = s.subsets.iter().rev().cloned().collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&|y: &f64| super::style::category_label(&names, *y))
            .x_label_formatter(&|x: &f64| format!("{:.0}", x.abs()))
            .x_desc(format!(
                "images: {} to the left, {} to the right",
                s.classes[0],
                s.classes[1..].join(" + ")
            ))
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 15))
            .draw()
            .map_err(|e| e.to_string())?;
        let row = |i: usize| (n - 1 - i) as f64;
        for (side, class) in [
            (-1.0, s.classes[0].clone()),
            (1.0, s.classes[1..].join(" + ")),
        ] {
            let color = if side < 0.0 {
                class_color(&s.classes[0])
            } else {
                class_color(s.classes.get(1).map_or("", |c| c.as_str()))
            };
            let value = |i: usize| if side < 0.0 { left(i) } else { right(i) };
            chart
                .draw_series((0..n).map(|i| {
                    Rectangle::new(
                        [(0.0, row(i) - 0.35), (side * value(i), row(i) + 0.35)],
                        color.filled(),
                    )
                }))
                .map_err(|e| e.to_string())?
                .label(class.clone())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 12, y + 6)], color.filled())
                });
            chart
                .draw_series((0..n).map(|i| {
                    let share = value(i) / s.total(i).max(1.0) * 100.0;
                    Text::new(
                        format!("{:.0} ({share:.0}%)", value(i)),
                        (side * (value(i) + m * 0.02), row(i)),
                        (FONT, 14).into_font().color(&BLACK).pos(Pos::new(
                            if side < 0.0 { HPos::Right } else { HPos::Left },
                            VPos::Center,
                        )),
                    )
                }))
                .map_err(|e| e.to_string())?;
        }
        super::style::legend(&mut chart, SeriesLabelPosition::UpperLeft)
    }
}

/// Classes per subset as stacked bars, each segment labelled with its count and its share of the
/// subset: the class balance of every subset at a glance.
pub fn classes_stacked(images: &DataFrame) -> Result<Figure> {
    Ok(Figure::new(
        "Classes per subset, stacked (share of the subset)",
        ShareChart {
            shares: Shares::of(images, "classes_stacked")?,
            kind: ShareKind::Stacked,
        },
    ))
}

/// Each subset's share of all images, as a pie with labelled percentages.
pub fn subset_shares(images: &DataFrame) -> Result<Figure> {
    Ok(Figure::new(
        "Share of the images in each subset",
        ShareChart {
            shares: Shares::of(images, "subset_shares")?,
            kind: ShareKind::Pie,
        },
    )
    .with_size(700, 560))
}

/// The report's population graph: a row per subset, the first class (NORMAL) to the left and
/// the others (PNEUMONIA) to the right, each bar labelled with its count and share of the row.
pub fn population_graph(images: &DataFrame) -> Result<Figure> {
    let shares = Shares::of(images, "population_graph")?;
    if shares.classes.len() == 1 {
        return Err(crate::Error::OneClass {
            what: "the population graph (one class to each side)".into(),
            found: "the table has one".into(),
        });
    }
    Ok(Figure::new(
        "Population graph: classes per subset",
        ShareChart {
            shares,
            kind: ShareKind::Population,
        },
    ))
}
