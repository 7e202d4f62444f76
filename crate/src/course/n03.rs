//! Notebook 03, Image sizes: exercises on the header facts of this dataset.

use polars::prelude::*;

use super::{choice, Exercise};
use crate::columns;
use crate::error::{PolarsContext, Result};
use crate::facts;
use crate::frame;

/// The value of `group` whose `stat` column is largest in `facts::size_stats(facts, group)`.
fn largest(facts: &DataFrame, group: &str, stat: &str) -> Result<String> {
    let stats = facts::size_stats(facts, group)?;
    let names = frame::strings(&stats, group)?;
    let values = frame::floats(&stats, stat)?;
    Ok(names
        .into_iter()
        .zip(values)
        .filter(|(_, v)| v.is_finite())
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(n, _)| n)
        .unwrap_or_default())
}

/// Try it 1: the Kaggle folder (`split`) with the widest films on average.
pub fn widest_folder(facts: &DataFrame) -> Result<Exercise<String>> {
    Ok(Exercise::new(
        "03 · Try it 1: the widest folder",
        largest(facts, columns::SPLIT, "width_mean")?,
        "In `facts::size_stats(&facts, \"split\")?`, the row with the largest `width_mean`; \
         answer with its `split`.",
        "let stats = facts::size_stats(&facts, \"split\")?;\n\
         let most_first = stats.query()\n    .sort([\"width_mean\"], SortMultipleOptions::default().with_order_descending(true))\n    .collect()?;\n\
         q.check(|| Ok(frame::strings(&most_first, \"split\")?[0].clone()))",
    ))
}

/// Try it 2: the class whose films are wider for their height (larger mean aspect ratio).
pub fn wider_class(facts: &DataFrame) -> Result<Exercise<String>> {
    let aspects = frame::fresh(facts)
        .lazy()
        .filter(col("width").is_not_null())
        .with_columns([(col("width").cast(DataType::Float64)
            / col("height").cast(DataType::Float64))
        .alias("aspect")])
        .group_by([col(columns::CLASS)])
        .agg([col("aspect").mean()])
        .collect()
        .ctx("mean aspect ratio per class")?;
    let classes = frame::strings(&aspects, columns::CLASS)?;
    let values = frame::floats(&aspects, "aspect")?;
    let wider = classes
        .into_iter()
        .zip(values)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(c, _)| c)
        .unwrap_or_default();
    Ok(Exercise::new(
        "03 · Try it 2: the wider class",
        wider,
        "Read the `aspect mean` column of the table above it: width / height, so the larger \
         number is the wider film.",
        "let by_aspect = aspects.query()\n    .sort([\"aspect mean\"], SortMultipleOptions::default().with_order_descending(true))\n    .collect()?;\n\
         q.check(|| Ok(frame::strings(&by_aspect, \"class\")?[0].clone()))",
    ))
}

/// Try it 3: the class whose widths spread the most (larger standard deviation).
pub fn wider_spread(facts: &DataFrame) -> Result<Exercise<String>> {
    Ok(Exercise::new(
        "03 · Try it 3: the wider spread",
        largest(facts, columns::CLASS, "width_std")?,
        "In `facts::size_stats(&facts, \"class\")?` compare the `width_std` column; in the \
         60-bin histogram it is the class whose bars cover the broader range.",
        "let by_spread = facts::size_stats(&facts, \"class\")?.query()\n    .sort([\"width_std\"], SortMultipleOptions::default().with_order_descending(true))\n    .collect()?;\n\
         q.check(|| Ok(frame::strings(&by_spread, \"class\")?[0].clone()))",
    ))
}

/// Rows of `facts` in subset `name`.
fn subset_rows(facts: &DataFrame, name: &str) -> Result<DataFrame> {
    let out = frame::fresh(facts)
        .lazy()
        .filter(col(columns::SUBSET).eq(lit(name)))
        .collect()
        .ctx("selecting a subset's facts")?;
    Ok(frame::fresh(&out))
}

/// Question 1 and your code: the width cut chosen on train, its accuracy on test.
pub fn width_cut_on_test(facts: &DataFrame) -> Result<Exercise<f64>> {
    let cut = facts::best_cut(&subset_rows(facts, "train")?, "width")?;
    let accuracy = cut.accuracy_on(&subset_rows(facts, "test")?)?;
    Ok(Exercise::new(
        "03 · Your code: a width cut, scored on test",
        accuracy,
        "Count the test images your rule gets right: NORMAL predicted when `(width >= cut.at) == \
         cut.normal_above`, right when that agrees with `is_normal`; divide by the number of \
         test images.",
        "fn accuracy_of_cut(widths: &[f64], is_normal: &[bool], at: f64, normal_above: bool) -> f64 {\n    \
         let right = widths.iter().zip(is_normal)\n        \
         .filter(|(w, normal)| ((**w >= at) == normal_above) == **normal)\n        .count();\n    \
         right as f64 / widths.len() as f64\n}",
    )
    .within(1e-9))
}

/// Question 2: where the aspect ratio survives the squeeze to 150x150.
pub fn where_aspect_survives() -> Exercise<char> {
    choice(
        "03 · Question 2: the aspect ratio after the squeeze",
        &[
            (
                'a',
                "nowhere: every image is 150x150, so the aspect ratio is gone",
            ),
            (
                'b',
                "in the shapes: a film squeezed more across than down draws round structures \
                   (heart, ribs) narrower, and its borders and markers keep their own widths",
            ),
            ('c', "only in the file size"),
        ],
        'b',
        "A square output does not mean the content was scaled alike in both directions: a \
         1,600x800 film is shrunk twice as much across as down.",
        "the squeeze scales width and height by different factors, so shapes carry the aspect",
    )
}
