//! Notebook 08, Is the model looking at the lungs?: exercises on the header facts, the matched
//! test and the occlusion maps of this dataset.

use polars::prelude::*;

use super::{choice, Exercise};
use crate::columns;
use crate::decode::Features;
use crate::error::Result;
use crate::frame;
use crate::occlusion::{self, Occlusion};
use crate::shortcut;
use crate::subset::Subset;
use crate::train::{Evaluation, ModelKind};

/// The patch, stride and images per class of the notebook's average maps.
pub const MAPS: (usize, usize, usize) = (15, 5, 20);

/// Try it 1: the share of NORMAL files that carry an ICC profile, from
/// [`shortcut::acquisition`].
pub fn normal_icc_share(facts: &DataFrame) -> Result<Exercise<f64>> {
    let table = shortcut::acquisition(facts)?;
    let classes = frame::strings(&table, columns::CLASS)?;
    let icc = frame::floats(&table, "ICC")?;
    let share = classes
        .iter()
        .position(|c| c == "NORMAL")
        .map_or(0.0, |i| icc[i]);
    Ok(Exercise::new(
        "08 · Try it 1: NORMAL files with an ICC profile",
        share,
        "In the table of `shortcut::acquisition`, the `ICC` column of the NORMAL row: a share \
         from 0 to 1.",
        "let classes = frame::strings(&acquisition, \"class\")?;\n\
         let icc = frame::floats(&acquisition, \"ICC\")?;\n\
         let row = classes.iter().position(|c| c == \"NORMAL\").unwrap();\n\
         q.check(|| Ok(icc[row]))",
    )
    .within(1e-9))
}

/// Try it 2: the share of the test subset's NORMAL films that found a PNEUMONIA partner of
/// about their size.
pub fn matched_share(facts: &DataFrame) -> Result<Exercise<f64>> {
    let matched = shortcut::matched_test(facts, Subset::Test, shortcut::DEFAULT_TOLERANCE)?;
    let share = matched.pairs() as f64 / matched.available[0].max(1) as f64;
    Ok(Exercise::new(
        "08 · Try it 2: NORMAL films with a partner",
        share,
        "Each pair holds one NORMAL film: divide `matched.pairs()` by the NORMAL films \
         available, `matched.available[0]`, as floats.",
        "q.check(|| Ok(matched.pairs() as f64 / matched.available[0] as f64))",
    )
    .within(1e-9))
}

/// Question 1: what size-blind decoding removes.
pub fn what_size_blind_removes() -> Exercise<char> {
    choice(
        "08 · Question 1: what size-blind decoding removes",
        &[
            (
                'a',
                "every trace of the acquisition: after it, the pixels cannot tell how the file was made",
            ),
            (
                'b',
                "the two steps that depended on the size: the DCT scale chosen from the size, and \
                 the stretch chosen from the aspect; the film's own resolution and what the crop \
                 cuts off still differ",
            ),
            ('c', "nothing: the image is 150x150 either way"),
        ],
        'b',
        "Read `DecodeOptions::size_blind`'s documentation: what does every image now go through \
         alike, and what does it say cannot be removed?",
        "the DCT scale and the stretch; a larger film still averages more pixels into each feature",
    )
}

/// The average occlusion maps of one model on the test subset, with the notebook's settings.
fn maps_of(
    evaluation: &Evaluation,
    features: &Features,
    kind: ModelKind,
) -> Result<occlusion::ClassMaps> {
    let (patch, stride, per_class) = MAPS;
    occlusion::average_maps(
        evaluation.model(kind)?,
        features,
        Subset::Test,
        per_class,
        patch.min(features.options().side() as usize),
        stride,
    )
}

/// Try it 3: the share of the logistic regression's mean PNEUMONIA map inside the lung region.
pub fn logistic_lung_share(evaluation: &Evaluation, features: &Features) -> Result<Exercise<f64>> {
    let maps = maps_of(evaluation, features, ModelKind::LogisticRegression)?;
    Ok(Exercise::new(
        "08 · Try it 3: where the logistic regression looks on PNEUMONIA films",
        maps.regions()[1].lungs,
        "In `occlusion::regions_table(&maps)?`, the row of the logistic regression and the class \
         PNEUMONIA, column `lungs`.",
        "let regions = occlusion::regions_table(&maps)?;\n\
         let row = regions.query()\n    .filter(col(\"model\").eq(lit(ModelKind::LogisticRegression.name()))\n        .and(col(\"class\").eq(lit(\"PNEUMONIA\"))))\n    .collect()?;\n\
         q.check(|| Ok(frame::floats(&row, \"lungs\")?[0]))",
    )
    .within(1e-6))
}

/// Your code: the share of a map's absolute effect that falls in the four corners (squares of
/// [`occlusion::CORNER`] of the side).
pub fn corner_share(map: &Occlusion) -> Exercise<f64> {
    Exercise::new(
        "08 · Your code: the share of the effect in the corners",
        map.regions().corners,
        "Loop over the pixels: `x = i % side`, `y = i / side`; a pixel is in a corner when its \
         centre `(x + 0.5) / side` is below 0.15 or at or above 0.85, and the same for `y`. Sum \
         the absolute values there and divide by the sum of all absolute values.",
        "fn corner_share(map: &[f32], side: usize) -> f64 {\n    \
         let (mut corners, mut total) = (0.0, 0.0);\n    \
         for (i, v) in map.iter().enumerate() {\n        \
         let fx = ((i % side) as f64 + 0.5) / side as f64;\n        \
         let fy = ((i / side) as f64 + 0.5) / side as f64;\n        \
         let edge = |f: f64| f < 0.15 || f >= 0.85;\n        \
         if edge(fx) && edge(fy) {\n            corners += v.abs() as f64;\n        }\n        \
         total += v.abs() as f64;\n    }\n    corners / total\n}",
    )
    .within(1e-6)
}

/// Question 2: what a map inside the lungs proves.
pub fn where_is_not_what() -> Exercise<char> {
    choice(
        "08 · Question 2: what a map inside the lungs proves",
        &[
            ('a', "that the model has learned what pneumonia looks like"),
            (
                'b',
                "where the score comes from, not why: brightness or texture inside the lungs \
                 can still come from the exposure, the scanner or the resampling",
            ),
            ('c', "nothing: occlusion maps are noise"),
        ],
        'b',
        "An occlusion map says which pixels change the score when covered. Does it say what \
         about those pixels the model uses?",
        "a map shows where; the matched test and size-blind decoding test whether it is the disease",
    )
}
