//! Decoded rows as one matrix ([`Features`]), and the files that could not be used.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;

use super::options::DecodeOptions;
use crate::columns;
use crate::error::{PolarsContext, Result};
use crate::frame;
use crate::reject::RejectReason;
use crate::subset::Subset;

/// A file that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reject {
    /// The file.
    pub path: PathBuf,
    /// Why (displays, and is saved, as a sentence: "truncated JPEG: ...").
    #[serde(serialize_with = "as_text")]
    pub reason: RejectReason,
}

fn as_text<S: serde::Serializer>(
    reason: &RejectReason,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serializer.collect_str(reason)
}

/// Decoded features: one row per decoded image, in the order of the table they came from.
#[derive(Debug, Clone)]
pub struct Features {
    pub(super) options: DecodeOptions,
    /// The network whose embeddings the rows are, and their length (`embeddings`, cargo
    /// feature `pretrained`); `None` for pixels.
    pub(super) network: Option<(&'static str, usize)>,
    pub(super) matrix: Vec<f32>,
    pub(super) labels: Vec<u32>,
    pub(super) images: DataFrame,
    pub(super) histograms: Vec<[u32; 256]>,
    /// The files that could not be decoded, with the reason.
    pub rejects: Vec<Reject>,
    /// How many rows were decoded in this call (the rest came from the cache).
    pub decoded: usize,
    /// Wall-clock seconds of the call.
    pub seconds: f64,
}

impl Features {
    /// What a call to [`features`](fn@super::features) did, as a one-row table: rows, features per row, the
    /// matrix's size in memory, rows decoded now and loaded from the cache, files rejected,
    /// seconds. A `Features` at the end of a notebook cell shows it.
    pub fn overview(&self) -> Result<DataFrame> {
        df!(
            "images" => [self.rows() as u64],
            "features per image" => [self.cols() as u64],
            "matrix (MB, f32)" => [(self.matrix.len() * std::mem::size_of::<f32>()) as f64 / 1e6],
            "decoded now" => [self.decoded as u64],
            "from the cache" => [(self.rows() - self.decoded.min(self.rows())) as u64],
            "rejected files" => [self.rejects.len() as u64],
            "seconds" => [self.seconds],
        )
        .ctx("describing the features")
    }

    /// evcxr's display hook: [`overview`](Self::overview).
    pub fn evcxr_display(&self) {
        crate::frame::show(self.overview())
    }

    /// The settings they were decoded with.
    pub fn options(&self) -> &DecodeOptions {
        &self.options
    }
    /// `rows() x cols()` values in [0, 1], row-major.
    pub fn matrix(&self) -> &[f32] {
        &self.matrix
    }
    /// The label of each row (the table's `label` column).
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }
    /// Per row: `path`, `class`, `subset` (or `split`), `label`, and the pixel-intensity
    /// statistics of the resized grayscale image on the 0-255 scale: `mean`, `std`, `min`, `max`.
    pub fn images(&self) -> &DataFrame {
        &self.images
    }
    /// Per row: a 256-bin histogram of the resized grayscale image.
    pub fn histograms(&self) -> &[[u32; 256]] {
        &self.histograms
    }
    /// How many images (rows).
    pub fn rows(&self) -> usize {
        self.labels.len()
    }
    /// How many features per image: `size * size` pixels, or 1,280 numbers of an embedding.
    pub fn cols(&self) -> usize {
        width(&self.options, self.network)
    }
    /// What the rows are, as it keys their cache: the decode settings (`150px-dct`), after the
    /// network's name for embeddings (`efficientnet-lite0-224px-dct`).
    pub fn key(&self) -> String {
        key(&self.options, self.network)
    }
    /// The pretrained network the rows are embeddings of (`decode::embeddings`); `None` when
    /// they are pixels ([`features`](fn@super::features)).
    pub fn network(&self) -> Option<&str> {
        self.network.map(|(name, _)| name)
    }
    /// The features of row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        let p = self.cols();
        &self.matrix[i * p..(i + 1) * p]
    }
    /// The rejects as a DataFrame: `path`, `reason`.
    pub fn rejects_frame(&self) -> Result<DataFrame> {
        rejects_frame(&self.rejects)
    }
    /// Pixel intensities of the resized grayscale images, pooled from their histograms: `images`,
    /// and the `mean`, `std`, `min` and `max` of all their pixels (0-255). With `group` =
    /// `"class"`, a row per class; with `"subset"` or `"split"`, a row per subset and class plus
    /// a row per subset with class `all` (the report's min/max/mean/std per subset).
    pub fn intensity_stats(&self, group: &str) -> Result<DataFrame> {
        let classes = frame::strings(&self.images, columns::CLASS)?;
        let groups = if group == columns::CLASS {
            None
        } else {
            Some(frame::strings(&self.images, group)?)
        };
        let mut out: Vec<(String, String, [u64; 256], u32)> = Vec::new();
        for (i, class) in classes.into_iter().enumerate() {
            let keys = match &groups {
                None => vec![(String::new(), class)],
                Some(g) => vec![(g[i].clone(), class), (g[i].clone(), "all".to_string())],
            };
            for (g, class) in keys {
                let entry = match out.iter_mut().position(|e| e.0 == g && e.1 == class) {
                    Some(at) => &mut out[at],
                    None => {
                        out.push((g, class, [0; 256], 0));
                        out.last_mut().expect("just pushed")
                    }
                };
                for (bin, &n) in entry.2.iter_mut().zip(self.histograms[i].iter()) {
                    *bin += n as u64;
                }
                entry.3 += 1;
            }
        }
        out.sort_by(|a, b| {
            let all_last = |c: &str| (c == "all", c.to_string());
            (Subset::from(a.0.as_str()), all_last(&a.1))
                .cmp(&(Subset::from(b.0.as_str()), all_last(&b.1)))
        });
        let (mut mean, mut std, mut min, mut max) = (vec![], vec![], vec![], vec![]);
        for (_, _, hist, _) in &out {
            let n: u64 = hist.iter().sum::<u64>().max(1);
            let m = hist
                .iter()
                .enumerate()
                .map(|(v, &c)| v as f64 * c as f64)
                .sum::<f64>()
                / n as f64;
            let var = hist
                .iter()
                .enumerate()
                .map(|(v, &c)| (v as f64 - m).powi(2) * c as f64)
                .sum::<f64>()
                / n as f64;
            mean.push(m);
            std.push(var.sqrt());
            min.push(hist.iter().position(|&c| c > 0).unwrap_or(0) as u32);
            max.push(hist.iter().rposition(|&c| c > 0).unwrap_or(0) as u32);
        }
        let mut df = df!(
            columns::CLASS => out.iter().map(|e| e.1.clone()).collect::<Vec<_>>(),
            "images" => out.iter().map(|e| e.3).collect::<Vec<_>>(),
            "mean" => mean,
            "std" => std,
            "min" => min,
            "max" => max,
        )
        .ctx("pooling pixel intensities")?;
        if groups.is_some() {
            let column = Column::new(
                group.into(),
                out.iter().map(|e| e.0.clone()).collect::<Vec<_>>(),
            );
            df.insert_column(0, column)
                .ctx("pooling pixel intensities")?;
        }
        Ok(frame::fresh(&df))
    }

    /// Pixel-intensity histograms per class: columns `class`, `intensity` (0-255) and `share`
    /// (the fraction of the class's pixels at that intensity).
    pub fn intensity_histograms(&self) -> Result<DataFrame> {
        let classes = frame::strings(&self.images, columns::CLASS)?;
        let mut names: Vec<String> = classes.clone();
        names.sort();
        names.dedup();
        let (mut class, mut intensity, mut share) = (vec![], vec![], vec![]);
        for name in &names {
            let mut hist = [0u64; 256];
            for (i, c) in classes.iter().enumerate() {
                if c == name {
                    for (bin, &n) in hist.iter_mut().zip(self.histograms[i].iter()) {
                        *bin += n as u64;
                    }
                }
            }
            let total = hist.iter().sum::<u64>().max(1) as f64;
            for (v, &n) in hist.iter().enumerate() {
                class.push(name.clone());
                intensity.push(v as u32);
                share.push(n as f64 / total);
            }
        }
        let df = df!(columns::CLASS => class, "intensity" => intensity, "share" => share)
            .ctx("building intensity histograms")?;
        Ok(frame::fresh(&df))
    }

    /// Writes the features to `file` (Arrow IPC, atomically): the cache's columns plus `class`,
    /// `label` and `subset`/`split`, and the rows' intensity statistics. Readable by polars and
    /// pyarrow.
    pub fn save(&self, file: impl AsRef<Path>) -> Result<()> {
        let features = self;
        let p = features.cols();
        let images = frame::fresh(&features.images);
        crate::cache::write_batches_atomically(file.as_ref(), features.rows(), |range| {
            let n = range.len();
            let mut list = ListPrimitiveChunkedBuilder::<Float32Type>::new(
                if features.network.is_some() {
                    "embedding"
                } else {
                    "features"
                }
                .into(),
                n,
                n * p,
                DataType::Float32,
            );
            for i in range.clone() {
                list.append_slice(features.row(i));
            }
            let mut table = images.slice(range.start as i64, n);
            table
                .with_column(list.finish().into_series().into())
                .ctx("adding the features column")?;
            Ok(table)
        })
    }

    /// The labels as `f64` (0 = first class, 1 = second), for regression.
    pub fn targets(&self) -> Vec<f64> {
        self.labels.iter().map(|&l| l as f64).collect()
    }
}

pub(crate) fn rejects_frame(rejects: &[Reject]) -> Result<DataFrame> {
    let df = df!(
        columns::PATH => rejects.iter().map(|r| r.path.to_string_lossy().into_owned()).collect::<Vec<_>>(),
        "reason" => rejects.iter().map(|r| r.reason.to_string()).collect::<Vec<_>>(),
    )
    .ctx("building the rejects table")?;
    Ok(frame::fresh(&df))
}

/// Turns decoded pixels (0-255) into feature values in [0, 1], as every row of [`features`](fn@super::features)
/// is made: `v / 255` in `f32`, as the report's `decode_image` divided by 255.
///
/// ```
/// let mut row = [0f32; 3];
/// xray_lab::decode::scale_pixels(&[0, 51, 255], &mut row);
/// assert_eq!(row, [0.0, 0.2, 1.0]);
/// ```
pub fn scale_pixels(pixels: &[u8], row: &mut [f32]) {
    for (out, &v) in row.iter_mut().zip(pixels) {
        *out = v as f32 / 255.0;
    }
}

/// Values per row: `side * side` pixels, or an embedding's length.
pub(super) fn width(options: &DecodeOptions, network: Option<(&str, usize)>) -> usize {
    match network {
        Some((_, size)) => size,
        None => options.side() as usize * options.side() as usize,
    }
}

/// The cache key of rows decoded with `options`, embedded by `network` if any.
pub(super) fn key(options: &DecodeOptions, network: Option<(&str, usize)>) -> String {
    match network {
        Some((network, _)) => format!("{network}-{}", options.key()),
        None => options.key(),
    }
}
