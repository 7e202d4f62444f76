//! Notebook 02, Resplit: exercises on the report's method and our resplit of this dataset.

use polars::prelude::*;

use super::Exercise;
use crate::columns;
use crate::error::Result;
use crate::frame;
use crate::load::Dataset;
use crate::split::{self, ResplitOptions};

/// Rows of a split whose `subset` is `name`, and of those, the NORMAL ones.
fn count_in(images: &DataFrame, name: &str, class: Option<&str>) -> Result<usize> {
    let subsets = frame::strings(images, columns::SUBSET)?;
    let classes = frame::strings(images, columns::CLASS)?;
    Ok(subsets
        .iter()
        .zip(&classes)
        .filter(|(s, c)| *s == name && class.is_none_or(|k| *c == k))
        .count())
}

/// Try it 1: NORMAL images in validation when the resplit is not stratified.
pub fn unstratified_normal_in_validation(dataset: &Dataset) -> Result<Exercise<usize>> {
    let images = split::resplit(&dataset.images, &ResplitOptions::new().stratify(false))?;
    Ok(Exercise::new(
        "02 · Try it 1: without stratification",
        count_in(&images, "validation", Some("NORMAL"))?,
        "In `split::summary(&unstratified)?`, the row with subset \"validation\" and class \
         \"NORMAL\": its `images` value.",
        "let normal = unstratified.query()\n    \
         .filter(col(\"subset\").eq(lit(\"validation\")).and(col(\"class\").eq(lit(\"NORMAL\"))))\n    \
         .collect()?.height();\nq.check(|| Ok(normal))",
    ))
}

/// Try it 2: images in test with seed 7.
pub fn test_images_with_seed_7(dataset: &Dataset) -> Result<Exercise<usize>> {
    let images = split::resplit(&dataset.images, &ResplitOptions::new().seed(7))?;
    Ok(Exercise::new(
        "02 · Try it 2: another seed",
        count_in(&images, "test", None)?,
        "Count the rows of `other_seed` whose `subset` is \"test\" (the `seed 7` column of the \
         comparison, row `test`).",
        "let test = other_seed.query().filter(col(\"subset\").eq(lit(\"test\"))).collect()?.height();\n\
         q.check(|| Ok(test))",
    ))
}

/// Try it 3: images the report's method draws twice with seed 1.
pub fn report_overlap_with_seed_1(dataset: &Dataset) -> Result<Exercise<usize>> {
    let report = split::report_method(&dataset.images, 1)?;
    Ok(Exercise::new(
        "02 · Try it 3: the report's method, seed 1",
        report.overlap,
        "`split::report_method(&dataset.images, 1)?` shows the count as \"drawn by both\"; the \
         field is `.overlap`.",
        "let seed_1 = split::report_method(&dataset.images, 1)?;\nq.check(|| Ok(seed_1.overlap))",
    ))
}

/// Question 1: images in our validation subset (to hold against its target of 2,000, or the
/// same share of a smaller dataset).
pub fn validation_size(dataset: &Dataset) -> Result<Exercise<usize>> {
    let images = split::default_split(dataset)?;
    Ok(Exercise::new(
        "02 · Question 1: how exact is grouped splitting?",
        count_in(&images, "validation", None)?,
        "Count the rows of `images` (the default split) whose `subset` is \"validation\".",
        "let validation = images.query().filter(col(\"subset\").eq(lit(\"validation\"))).collect()?.height();\n\
         q.check(|| Ok(validation))",
    ))
}

/// Question 2: patients a disjoint draw by image still puts in two subsets.
pub fn patients_leaked_by_a_disjoint_draw(dataset: &Dataset) -> Result<Exercise<usize>> {
    let disjoint = split::resplit(
        &dataset.images,
        &ResplitOptions::new().by_patient(false).stratify(false),
    )?;
    Ok(Exercise::new(
        "02 · Question 2: disjoint is not leak-free",
        split::leak_counts(&disjoint)?.patients,
        "Draw the subsets disjointly but by image (`ResplitOptions::new().by_patient(false)\
         .stratify(false)`), then `split::leak_counts(&disjoint)?.patients`.",
        "let disjoint = split::resplit(&dataset.images, &ResplitOptions::new().by_patient(false).stratify(false))?;\n\
         q.check(|| Ok(split::leak_counts(&disjoint)?.patients))",
    ))
}

/// Your code: images in two subsets of the report's split, counted by hand.
pub fn images_in_two_subsets(memberships: &DataFrame) -> Result<Exercise<usize>> {
    Ok(Exercise::new(
        "02 · Your code: the overlap, counted by hand",
        split::leak_counts(memberships)?.images,
        "Group the memberships by `path`, count rows per path (`len()`), keep the paths with \
         more than one (`.filter(col(\"subsets\").gt(lit(1)))`) and take the `.height()`.",
        "fn images_in_two_subsets(memberships: &DataFrame) -> Result<usize> {\n    \
         let per_path = memberships.query()\n        .group_by([col(\"path\")])\n        \
         .agg([len().alias(\"subsets\")])\n        .filter(col(\"subsets\").gt(lit(1)))\n        \
         .collect()?;\n    Ok(per_path.height())\n}",
    ))
}
