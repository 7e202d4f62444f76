//! Notebook 04, Pixel intensities: exercises on decoding this dataset.

use std::path::Path;

use super::{choice, Exercise};
use crate::decode::{decode_file, DecodeOptions};
use crate::error::Result;
use crate::load::Dataset;

/// Try it 1: how many times fewer values a `side`-pixel image has than a 150-pixel one.
pub fn smaller_matrix(side: u32) -> Exercise<f64> {
    let side = side.max(1) as f64;
    Exercise::new(
        "04 · Try it 1: a smaller matrix",
        150.0 * 150.0 / (side * side),
        "Values per image: 150 x 150 against side x side; the matrix shrinks by their ratio \
         (`features.cols() as f64 / small.cols() as f64`).",
        "q.check(|| Ok(features.cols() as f64 / small.cols() as f64))",
    )
    .within(1e-9)
}

/// Your code: the mean absolute difference between one file's exact and DCT-scaled decodings,
/// in gray levels (0-255).
pub fn exact_against_scaled(
    path: impl AsRef<Path>,
    options: &DecodeOptions,
) -> Result<Exercise<f64>> {
    let path = path.as_ref();
    let exact = decode_file(path, &options.clone().exact(true))?;
    let scaled = decode_file(path, &options.clone().exact(false))?;
    let total: u64 = exact
        .as_raw()
        .iter()
        .zip(scaled.as_raw())
        .map(|(a, b)| a.abs_diff(*b) as u64)
        .sum();
    Ok(Exercise::new(
        "04 · Your code: exact against DCT scaling",
        total as f64 / exact.as_raw().len().max(1) as f64,
        "Pair the two rows with `.iter().zip(b)`, take `(x - y).abs()` of each pair, sum, divide \
         by the length; the features are in [0, 1], so multiply by 255 for gray levels.",
        "fn mean_abs_difference(a: &[f32], b: &[f32]) -> f64 {\n    \
         let total: f64 = a.iter().zip(b).map(|(x, y)| (x - y).abs() as f64).sum();\n    \
         total / a.len() as f64\n}\n\
         q.check(|| Ok(mean_abs_difference(exact.row(0), scaled.row(0)) * 255.0))",
    )
    .within(1e-4))
}

/// Question 1: megabytes of pickled float lists the report's UDF sent back to the JVM.
pub fn pickled_megabytes(dataset: &Dataset) -> Exercise<f64> {
    Exercise::new(
        "04 · Question 1: what crossed between the JVM and Python",
        dataset.len() as f64 * 22_500.0 * 9.0 / 1e6,
        "`.tolist()` makes every float32 a Python float (a double); pickle writes each as one \
         opcode byte and 8 bytes: 9 bytes, 22,500 per image, for every image of the dataset.",
        "q.check(|| Ok(dataset.len() as f64 * 22_500.0 * 9.0 / 1e6))",
    )
    .within(1e-6)
}

/// Question 2: the subset the report never decoded.
pub fn undecoded_subset() -> Exercise<String> {
    Exercise::new(
        "04 · Question 2: the subset without features",
        "validation".to_string(),
        "The UDF ran on `train_df` and `test_df` only; which of the report's three subsets is \
         neither?",
        "q.check(|| Ok(\"validation\".to_string()))",
    )
}

/// Try it 3: what a 64-pixel image loses first.
pub fn what_64_pixels_lose() -> Exercise<char> {
    choice(
        "04 · Try it 3: the X-rays at 64 px",
        &[
            ('a', "the overall brightness of the lung fields"),
            (
                'b',
                "fine detail: thin edges, small opacities, the letters of markers",
            ),
            ('c', "nothing a model could use"),
        ],
        'b',
        "Compare the two grids: what is still there at 64 px, and what has blurred away?",
        "shrinking averages neighbouring pixels, so small and thin structures go first",
    )
}
