//! Rows of features with their labels, as models read them; the file facts; pooling.

use std::path::Path;

use polars::prelude::*;

use crate::columns;
use crate::decode::Features;
use crate::subset::{Splits, Subset};
use crate::{Error, Result};

/// Rows of features with their 0/1 labels: what a model is fitted on or scores.
#[derive(Debug, Clone, PartialEq)]
pub struct Samples {
    pub(super) x: Vec<f32>,
    pub(super) cols: usize,
    pub(super) y: Vec<u32>,
    pub(super) paths: Vec<String>,
}

impl Samples {
    /// Rows from a row-major matrix with `cols` values per row.
    pub fn new(x: Vec<f32>, cols: usize, y: Vec<u32>) -> Result<Samples> {
        if cols == 0 || x.len() != cols * y.len() {
            return Err(Error::ShapeMismatch {
                what: "samples".into(),
                expected: format!("{} rows of {cols} values, one per label", y.len()),
                found: format!("{} values were given", x.len()),
            });
        }
        if let Some(bad) = y.iter().find(|&&v| v > 1) {
            return Err(Error::Incompatible {
                what: "samples".into(),
                reason: format!("labels must be 0 or 1 (two classes), found {bad}"),
            });
        }
        Ok(Samples {
            x,
            cols,
            y,
            paths: Vec::new(),
        })
    }

    /// The rows of `features` whose `subset` column (or, when there is none, `split`) is
    /// `subset`, in their order.
    pub fn from_features(features: &Features, subset: impl Into<Subset>) -> Result<Samples> {
        let rows = subset_rows(features.images(), &subset.into())?;
        let cols = features.cols();
        let mut x = Vec::with_capacity(rows.len() * cols);
        for &i in &rows {
            x.extend_from_slice(features.row(i));
        }
        let paths = crate::frame::strings(features.images(), columns::PATH)?;
        let mut samples = Samples::new(
            x,
            cols,
            rows.iter().map(|&i| features.labels()[i]).collect(),
        )?;
        samples.paths = rows.iter().map(|&i| paths[i].clone()).collect();
        Ok(samples)
    }

    /// File facts that are not pixels, for the shortcut check ([`FACTS`]: file size, width,
    /// height, aspect ratio, channels, and the acquisition facts of the JPEG header), of the rows
    /// of `features` in `subset`. Read from the file headers (cached), not decoded.
    pub fn facts_of(features: &Features, subset: impl Into<Subset>) -> Result<Samples> {
        let rows = subset_rows(features.images(), &subset.into())?;
        Self::facts_reader(features, &[&rows])?(&rows)
    }

    /// [`Samples::facts_of`] for train, validation and test, with one pass over the facts cache
    /// (which is one JSON file for every dataset seen, so opening it costs a parse).
    pub(crate) fn facts_of_splits(
        features: &Features,
        names: Splits<&Subset>,
    ) -> Result<Splits<Samples>> {
        let rows = names.try_map(|s| subset_rows(features.images(), s))?;
        let mut read = Self::facts_reader(features, &[&rows.train, &rows.validation, &rows.test])?;
        rows.as_ref().try_map(|rows| read(rows))
    }

    /// Reads the facts of every row of `rows` (lists of row numbers) at once, and returns the
    /// function that turns each list, in the same order, into its samples.
    fn facts_reader<'a>(
        features: &'a Features,
        rows: &[&Vec<usize>],
    ) -> Result<impl FnMut(&[usize]) -> Result<Samples> + 'a> {
        let all = crate::frame::strings(features.images(), columns::PATH)?;
        let wanted: Vec<String> = rows
            .iter()
            .copied()
            .flatten()
            .map(|&i| all[i].clone())
            .collect();
        let facts = crate::facts::facts_cached(&wanted, features.options().caches().folder());
        let mut facts = wanted
            .into_iter()
            .zip(facts)
            .map(|(path, (stamp, facts))| (file_facts(Path::new(&path), stamp, facts), path));
        Ok(move |rows: &[usize]| {
            let mut x = Vec::with_capacity(rows.len() * FACTS.len());
            let mut paths = Vec::with_capacity(rows.len());
            for (row, path) in facts.by_ref().take(rows.len()) {
                x.extend(row?);
                paths.push(path);
            }
            let mut samples = Samples::new(
                x,
                FACTS.len(),
                rows.iter().map(|&i| features.labels()[i]).collect(),
            )?;
            samples.paths = paths;
            Ok(samples)
        })
    }

    /// The label of each row: 0 NORMAL, 1 PNEUMONIA.
    pub fn y(&self) -> &[u32] {
        &self.y
    }
    /// The file of each row, when known.
    pub fn paths(&self) -> &[String] {
        &self.paths
    }

    /// How many rows.
    pub fn rows(&self) -> usize {
        self.y.len()
    }

    /// Values per row.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.cols..(i + 1) * self.cols]
    }

    /// Square images (`side x side` per row) averaged over `factor x factor` blocks: 150x150
    /// with factor 5 gives 30x30. Pixels past the last whole block are dropped.
    pub fn pooled(&self, factor: usize) -> Result<Samples> {
        let side = (self.cols as f64).sqrt().round() as usize;
        if side * side != self.cols || factor == 0 || factor > side {
            return Err(Error::ShapeMismatch {
                what: "pooling".into(),
                expected: format!("square images of at least {factor} pixels a side"),
                found: format!("rows have {} values", self.cols),
            });
        }
        let x: Vec<f32> = (0..self.rows())
            .flat_map(|i| pool_row(self.row(i), side, factor))
            .collect();
        let out = side / factor;
        Ok(Samples {
            x,
            cols: out * out,
            y: self.y.clone(),
            paths: self.paths.clone(),
        })
    }
}

/// The names of the shortcut facts, in [`Samples::facts_of`]'s column order: the file's size in
/// kB, its width, height, aspect (width / height) and channels, then what its JPEG header says
/// ([`crate::facts::JpegMarkers`]): progressive, EXIF and ICC present (1 or 0), the JFIF density
/// in dpi (0 without a unit or a JFIF header), chroma subsampled (1 for 4:2:0, 4:2:2, ...; 0 for
/// gray or 4:4:4) and the estimated quality. A file that is not a JPEG has 0 for each of these.
pub const FACTS: [&str; 11] = [
    "file kB",
    "width",
    "height",
    "aspect",
    "channels",
    "progressive",
    "EXIF",
    "ICC",
    "JFIF dpi",
    "chroma subsampled",
    "quality",
];

/// One row of [`FACTS`] from a file's stamp and header facts; a file that cannot be read or
/// whose header cannot be parsed is an error that names it.
pub(super) fn file_facts(
    path: &Path,
    stamp: Option<crate::files::Stamp>,
    facts: std::result::Result<crate::facts::ImageFacts, crate::facts::RejectReason>,
) -> Result<[f32; FACTS.len()]> {
    let bytes = match stamp {
        Some(stamp) => stamp.bytes,
        None => std::fs::metadata(path)
            .map_err(|e| Error::io(path, e))?
            .len(),
    };
    let facts = facts.map_err(|reason| Error::Decode {
        path: path.to_path_buf(),
        reason,
    })?;
    let flag = |yes: bool| if yes { 1.0 } else { 0.0 };
    let jpeg = facts.jpeg.clone().unwrap_or_default();
    Ok([
        bytes as f32 / 1000.0,
        facts.width as f32,
        facts.height as f32,
        facts.width as f32 / facts.height.max(1) as f32,
        facts.channels as f32,
        flag(facts.progressive == Some(true)),
        flag(jpeg.exif),
        flag(jpeg.icc),
        jpeg.jfif.and_then(|d| d.dpi()).unwrap_or(0.0) as f32,
        flag(matches!(jpeg.chroma.as_deref(), Some(c) if c != "gray" && c != "4:4:4")),
        jpeg.quality.unwrap_or(0.0) as f32,
    ])
}

pub(crate) fn pool_row(row: &[f32], side: usize, factor: usize) -> Vec<f32> {
    let out = side / factor;
    let mut pooled = vec![0f32; out * out];
    let scale = 1.0 / (factor * factor) as f32;
    for (by, chunk) in pooled.chunks_mut(out).enumerate() {
        for (bx, v) in chunk.iter_mut().enumerate() {
            let mut sum = 0.0;
            for y in by * factor..(by + 1) * factor {
                sum += row[y * side + bx * factor..y * side + (bx + 1) * factor]
                    .iter()
                    .sum::<f32>();
            }
            *v = sum * scale;
        }
    }
    pooled
}

pub(super) fn subset_rows(images: &DataFrame, subset: &Subset) -> Result<Vec<usize>> {
    let column = crate::subset::column_of(images, "choosing a subset's rows")?;
    Ok(crate::frame::strings(images, column)?
        .iter()
        .enumerate()
        .filter(|(_, s)| subset == s.as_str())
        .map(|(i, _)| i)
        .collect())
}

/// The models here read pixels: the trees pool them into blocks, the linear models' weights
/// draw as an image, a saved model decodes a new file to pixels. Embeddings
/// (`decode::embeddings`) are refused with the way to train on them instead.
pub(crate) fn require_pixels(features: &Features, what: &str) -> Result<()> {
    match features.network() {
        None => Ok(()),
        Some(network) => Err(Error::Incompatible {
            what: what.to_string(),
            reason: format!(
                "it takes pixel features (decode::features); these are {network} embeddings: \
                 fit a model on them through Samples::from_features (LogisticRegression::fit, \
                 RidgeRegression::fit_path, RandomForest::fit)"
            ),
        }),
    }
}

/// The pixels of train, validation and test; an error when one lacks a class.
pub(super) fn pixel_samples(
    features: &Features,
    names: Splits<&Subset>,
) -> Result<Splits<Samples>> {
    let pixels = names.try_map(|s| Samples::from_features(features, s.clone()))?;
    for (samples, name) in pixels.iter().zip(names.iter()) {
        let positives = samples.y.iter().filter(|&&y| y == 1).count();
        if positives == 0 || positives == samples.rows() {
            return Err(Error::OneClass {
                what: format!("subset {name}"),
                found: format!(
                    "it has {} images of {} class(es): training and evaluation need both classes \
                     in train, validation and test (resplit with split::resplit)",
                    samples.rows(),
                    if samples.rows() == 0 { 0 } else { 1 }
                ),
            });
        }
    }
    Ok(pixels)
}
