//! Notebook 00, Rust for this course: a two-line exercise per idea, with fixed answers (no
//! dataset needed).

use super::{choice, Exercise};

/// `mut`: add 3, 4 and 5 to a running total in a loop.
pub fn mutation() -> Exercise<i64> {
    Exercise::new(
        "00 · mut",
        12,
        "Declare the total with `let mut total = 0;`, then `total += x;` inside the loop.",
        "let mut total = 0;\nfor x in [3, 4, 5] { total += x; }\nq.check(|| Ok(total))",
    )
}

/// `clone`: keep the class names and extend a copy; how many names in both vectors?
pub fn cloning() -> Exercise<usize> {
    Exercise::new(
        "00 · clone",
        5,
        "`let mut more = classes.clone();` copies the vector, so `classes` still has its 2 \
         names and `more` gets a third: count both.",
        "let mut more = classes.clone();\nmore.push(\"COVID-19\".to_string());\n\
         q.check(|| Ok(classes.len() + more.len()))",
    )
}

/// Closures and iterators: the sum of the squares of the widths above 2.
pub fn iterators() -> Exercise<i64> {
    Exercise::new(
        "00 · closures and iterators",
        50,
        "Keep the values above 2 with `.filter(|w| **w > 2)`, square them with `.map(|w| w * w)`, \
         then `.sum::<i64>()`.",
        "let widths = [3, 1, 4, 1, 5];\n\
         q.check(|| Ok(widths.iter().filter(|w| **w > 2).map(|w| w * w).sum::<i64>()))",
    )
}

/// `Option`: the first width above 2,000, or 0 when there is none.
pub fn options() -> Exercise<usize> {
    Exercise::new(
        "00 · Option",
        2890,
        "`.find(...)` gives an Option<&usize>: `Some(&w)` or `None`. `.copied().unwrap_or(0)` \
         turns it into a number.",
        "let sizes = [1654, 1168, 2890, 2100];\n\
         q.check(|| Ok(sizes.iter().find(|s| **s > 2000).copied().unwrap_or(0)))",
    )
}

/// `Result`: add up the texts that parse as numbers.
pub fn results() -> Exercise<usize> {
    Exercise::new(
        "00 · Result",
        214,
        "`s.parse::<usize>()` gives a Result; `.ok()` turns it into an Option, and \
         `.filter_map(...)` keeps only the `Some`s. \"x\" does not parse.",
        "let texts = [\"150\", \"x\", \"64\"];\n\
         q.check(|| Ok(texts.iter().filter_map(|s| s.parse::<usize>().ok()).sum::<usize>()))",
    )
}

/// Enum variants: the images the report moved into a subset, by `match`.
pub fn enums() -> Exercise<usize> {
    Exercise::new(
        "00 · enums and match",
        2000,
        "Write one arm per variant you care about (`Subset::Test => 1000`, `Subset::Validation \
         => 2000`) and `_ => 0` for the rest, then ask for `Subset::Validation`.",
        "fn moved_into(subset: Subset) -> usize {\n    match subset { Subset::Test => 1000, Subset::Validation => 2000, _ => 0 }\n}\n\
         q.check(|| Ok(moved_into(Subset::Validation)))",
    )
}

/// Casts: the NORMAL share of Kaggle's training folder, 1,341 of 5,216, as a float.
pub fn casts() -> Exercise<f64> {
    Exercise::new(
        "00 · casts",
        1341.0 / 5216.0,
        "`1341 / 5216` divides whole numbers and gives 0; cast first: `1341 as f64 / 5216.0`.",
        "q.check(|| Ok(1341 as f64 / 5216.0))",
    )
}

/// Reading the compiler: what the broken cell's message says.
pub fn compiler_message() -> Exercise<char> {
    choice(
        "00 · reading an error",
        &[
            ('a', "a `;` is missing at the end of the line"),
            (
                'b',
                "mismatched types: the line wants an f64 and the division gives a u32",
            ),
            ('c', "the variable `images` was never defined"),
        ],
        'b',
        "Read the first line (`[E0308] Error: ...`) and the labels under the line it shows: \
         `expected ..., found ...`.",
        "error[E0308]: mismatched types, expected `f64`, found `u32`",
    )
}
