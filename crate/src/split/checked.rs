//! The one entry point: a split from a file or a resplit, checked for leaks, and its summary.

use std::collections::HashMap;
use std::path::Path;

use polars::prelude::*;
use serde::Serialize;

use super::file::read_split;
use super::leaks::{add_content_hash_in, leaks};
use super::recipe::ResplitOptions;
use super::resplit::resplit;
use super::rows::{content_hashes, read_rows};
use crate::columns;
use crate::error::{Error, PolarsContext, Result};
use crate::frame;

/// The split every later notebook and command starts from: the file named by `$XRAY_LAB_SPLIT`
/// when it is set (an exact split shared by someone else), else [`resplit`] with the defaults
/// (seed 42, stratified, grouped by patient and by file content). Either way the result is
/// checked with [`check_leakage`](super::check_leakage): no path, file content or patient in two subsets.
pub fn default_split(dataset: &crate::load::Dataset) -> Result<DataFrame> {
    split_with(
        dataset,
        crate::env::split_file().as_deref(),
        &ResplitOptions::new(),
    )
}

/// The one split recipe behind every entry point (`xray-lab split`, `train`, `report`, and
/// [`default_split`] in the notebooks): the split `file` when one is given, else [`resplit`]
/// with `options`; then [`check_leakage`](super::check_leakage). Returns the image table with its `subset` column.
pub fn split_with(
    dataset: &crate::load::Dataset,
    file: Option<&Path>,
    options: &ResplitOptions,
) -> Result<DataFrame> {
    Ok(split_checked(dataset, file, options)?.0)
}

/// What the leak checks of a split found: how many images were hashed, how many files have an
/// identical twin (kept in one subset), how many patients have several images (kept in one
/// subset when grouping by patient), and how many images leak (0 unless the split came from a
/// file and [`check_leakage`](super::check_leakage) was not asked to fail).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SplitCheck {
    /// Images whose content was hashed.
    pub images: usize,
    /// Images that share their content with at least one other image.
    pub duplicate_images: usize,
    /// Groups of identical files.
    pub duplicate_groups: usize,
    /// Patients with more than one image.
    pub patients_with_several_images: usize,
    /// Images that share a path, content or patient with an image of another subset.
    pub leaking_images: usize,
}

/// [`split_with`], with what its leak checks found.
pub fn split_checked(
    dataset: &crate::load::Dataset,
    file: Option<&Path>,
    options: &ResplitOptions,
) -> Result<(DataFrame, SplitCheck)> {
    let hashed = add_content_hash_in(&dataset.images, options.caches())?;
    let split = match file {
        Some(file) => read_split(&hashed, &dataset.root, file)?,
        None => resplit(&hashed, options)?,
    };
    let found = leaks(&split)?;
    let rows = read_rows(&split, &[columns::PATH], "checking a split")?;
    let mut check = SplitCheck {
        images: split.height(),
        leaking_images: found.height(),
        ..SplitCheck::default()
    };
    let mut by_hash: HashMap<&str, usize> = HashMap::new();
    let hashes = content_hashes(&split)?.unwrap_or_default();
    for hash in hashes.iter().flatten() {
        *by_hash.entry(hash.as_str()).or_default() += 1;
    }
    check.duplicate_groups = by_hash.values().filter(|&&n| n > 1).count();
    check.duplicate_images = by_hash.values().filter(|&&n| n > 1).sum();
    let mut by_patient: HashMap<&str, usize> = HashMap::new();
    for patient in rows.patient.iter().flatten() {
        *by_patient.entry(patient.as_str()).or_default() += 1;
    }
    check.patients_with_several_images = by_patient.values().filter(|&&n| n > 1).count();
    if check.leaking_images > 0 {
        return Err(Error::Leak {
            images: found.height(),
            rows: found.head(Some(10)),
        });
    }
    let images = frame::fresh(
        &split
            .drop(columns::CONTENT_HASH)
            .ctx("dropping content hashes")?,
    );
    Ok((images, check))
}

/// Subset x class counts and ratios: columns `subset`, `class`, `images`, `share_of_subset`
/// (the class's share within its subset) and `share_of_all` (the subset's images over all).
pub fn summary(images: &DataFrame) -> Result<DataFrame> {
    let counts = crate::load::counts(images, columns::SUBSET)?;
    let total = images.height().max(1) as f64;
    let per_subset = col("images")
        .sum()
        .over([col(columns::SUBSET)])
        .ctx("summing images per subset")?;
    let out = counts
        .lazy()
        .with_columns([
            (col("images").cast(DataType::Float64) / per_subset.cast(DataType::Float64))
                .alias("share_of_subset"),
            (col("images").cast(DataType::Float64) / lit(total)).alias("share_of_all"),
        ])
        .collect()
        .ctx("summarising the split")?;
    Ok(frame::fresh(&out))
}
