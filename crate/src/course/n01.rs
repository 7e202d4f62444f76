//! Notebook 01, Load and explore: exercises on the scan of whichever dataset the notebook reads.

use std::path::Path;

use polars::prelude::*;

use super::Exercise;
use crate::columns;
use crate::error::{PolarsContext, Result};
use crate::load::{Dataset, ScanOptions};
use crate::{facts, frame, split};

/// Images per patient, most first (images without a patient left out).
fn images_per_patient(images: &DataFrame) -> Result<Vec<usize>> {
    let counts = frame::fresh(images)
        .lazy()
        .filter(col(columns::PATIENT).is_not_null())
        .group_by([col(columns::PATIENT)])
        .agg([len().alias("images")])
        .sort(
            ["images"],
            SortMultipleOptions::default().with_order_descending(true),
        )
        .collect()
        .ctx("counting images per patient")?;
    Ok(frame::floats(&counts, "images")?
        .into_iter()
        .map(|v| v as usize)
        .collect())
}

/// Try it 1: how many images does the busiest patient have (0 when no file name names one)?
pub fn busiest_patient(dataset: &Dataset) -> Result<Exercise<usize>> {
    let most = images_per_patient(&dataset.images)?
        .first()
        .copied()
        .unwrap_or(0);
    Ok(Exercise::new(
        "01 · Try it 1: the busiest patient",
        most,
        "Run the cell above it: the first row of the per-patient table, sorted most first, is the \
         busiest patient; its `images` value is the answer.",
        "let per_patient = dataset.images.query()\n    .filter(col(\"patient\").is_not_null())\n    \
         .group_by([col(\"patient\")]).agg([len().alias(\"images\")])\n    \
         .sort([\"images\"], SortMultipleOptions::default().with_order_descending(true))\n    \
         .collect()?;\nlet most = frame::floats(&per_patient, \"images\")?.first().copied().unwrap_or(0.0);\n\
         q.check(|| Ok(most as usize))",
    ))
}

/// Try it 2: how many more images does the rule with `.jpg` and `.png` find than `*.jpeg`?
pub fn png_rule(root: &Path) -> Result<Exercise<usize>> {
    let jpeg = ScanOptions::new().extensions(["jpeg"]).scan(root)?.len();
    let more = ScanOptions::new()
        .extensions(["jpeg", "jpg", "png"])
        .scan(root)?
        .len();
    Ok(Exercise::new(
        "01 · Try it 2: a wider rule",
        more.saturating_sub(jpeg),
        "Subtract the first row's `images` from the second's (`with_png.len() - jpeg_only.len()`).",
        "q.check(|| Ok(with_png.len() - jpeg_only.len()))",
    ))
}

/// Try it 3: the split every image of the real sample is in (it has no split folders).
pub fn real_sample_split() -> Result<Exercise<String>> {
    let real = crate::load::scan(crate::load::real_sample())?;
    let splits = frame::strings(&real.images, columns::SPLIT)?;
    let first = splits.first().cloned().unwrap_or_default();
    Ok(Exercise::new(
        "01 · Try it 3: the real sample's split",
        first,
        "Run `real.counts()?` and read the `split` column: a folder of class folders with no \
         train/test/val above them has one split for everything.",
        "q.check(|| Ok(\"all\".to_string()))",
    ))
}

/// Question 1: the busiest patient's expected images in test if the split drew single images:
/// their images times test's share of all images (in notebook 02's resplit).
pub fn busiest_patient_in_test(dataset: &Dataset) -> Result<Exercise<f64>> {
    let most = images_per_patient(&dataset.images)?
        .first()
        .copied()
        .unwrap_or(0);
    let images = split::default_split(dataset)?;
    let subsets = frame::strings(&images, columns::SUBSET)?;
    let share =
        subsets.iter().filter(|s| *s == "test").count() as f64 / subsets.len().max(1) as f64;
    Ok(Exercise::new(
        "01 · Question 1: a patient on both sides",
        most as f64 * share,
        "Multiply the busiest patient's images by test's share of all images: count the rows of \
         `split::default_split(&dataset)?` whose `subset` is \"test\", divide by all rows.",
        "let images = split::default_split(&dataset)?;\n\
         let test = images.query().filter(col(\"subset\").eq(lit(\"test\"))).collect()?.height();\n\
         let share = test as f64 / images.height() as f64;\n\
         q.check(|| Ok(most * share))",
    )
    .within(1e-3))
}

/// Question 2: the feature matrix at the images' own sizes, in GB (4-byte floats).
pub fn matrix_at_original_sizes(dataset: &Dataset) -> Result<Exercise<f64>> {
    let facts = facts::facts(&dataset.images)?;
    let widths = frame::floats(&facts, "width")?;
    let heights = frame::floats(&facts, "height")?;
    let gb: f64 = widths
        .iter()
        .zip(&heights)
        .filter(|(w, h)| w.is_finite() && h.is_finite())
        .map(|(w, h)| w * h * 4.0 / 1e9)
        .sum();
    Ok(Exercise::new(
        "01 · Question 2: the matrix at the original sizes",
        gb,
        "Read every header with `facts::facts(&dataset.images)?`, then sum width x height x 4 \
         bytes over the images, divided by 1e9.",
        "let facts = facts::facts(&dataset.images)?;\n\
         let widths = frame::floats(&facts, \"width\")?;\n\
         let heights = frame::floats(&facts, \"height\")?;\n\
         let gb: f64 = widths.iter().zip(&heights).map(|(w, h)| w * h * 4.0 / 1e9).sum();\n\
         q.check(|| Ok(gb))",
    )
    .within(1e-3))
}

/// Your code: the share of PNEUMONIA images in a table of images.
pub fn pneumonia_share(dataset: &Dataset) -> Result<Exercise<f64>> {
    let classes = frame::strings(&dataset.images, columns::CLASS)?;
    let share =
        classes.iter().filter(|c| *c == "PNEUMONIA").count() as f64 / classes.len().max(1) as f64;
    Ok(Exercise::new(
        "01 · Your code: the PNEUMONIA share",
        share,
        "Filter the rows whose `class` is \"PNEUMONIA\" (`.query().filter(col(\"class\").eq(lit(\
         \"PNEUMONIA\"))).collect()?`), take its `.height()`, and divide by `images.height()` as \
         floats.",
        "fn pneumonia_share(images: &DataFrame) -> Result<f64> {\n    \
         let pneumonia = images.query().filter(col(\"class\").eq(lit(\"PNEUMONIA\"))).collect()?;\n    \
         Ok(pneumonia.height() as f64 / images.height() as f64)\n}",
    )
    .within(1e-9))
}
