//! A whole table decoded in parallel, with the cache, into [`Features`] (pixels or embeddings).

use std::path::{Path, PathBuf};
use std::time::Instant;

#[cfg(feature = "pretrained")]
use image::GrayImage;
use polars::prelude::*;
use rayon::prelude::*;

use super::codec::{decode_row, Decoded, Decoding};
use super::features::{key, scale_pixels, width, Features, Reject};
use super::intensity::Intensity;
use super::options::DecodeOptions;
use crate::columns;
use crate::error::{PolarsContext, Result};
use crate::frame;
use crate::progress::Reporter;

/// Decodes every image of the table (in parallel, on all cores) into one feature matrix.
///
/// Rows keep the table's order; files that fail are left out and listed in
/// [`Features::rejects`]. With the cache on (default), images decoded before with the same
/// settings, and unchanged since (same size and modification time), are loaded instead of
/// decoded; see [`crate::cache`].
pub fn features(images: &DataFrame, options: &DecodeOptions) -> Result<Features> {
    options.check()?;
    decode_rows(images, options, None, |decoded, row| {
        scale_pixels(&decoded.pixels, row)
    })
}

/// Embeddings of every image of the table by a pretrained network: each image decoded as
/// [`features`] decodes it, at the network's 224x224 (the other settings of `options` apply:
/// [`DecodeOptions::exact`], the pixel limit, progress and cache), then run through `network`;
/// each row is its 1,280-number embedding ([`crate::pretrained`]). Rows keep the table's
/// order, failed files are in [`Features::rejects`] with the reason, and the rows are cached
/// like the features, keyed by the network and the decode settings.
///
/// Needs the cargo feature `pretrained`.
///
/// ```no_run
/// use xray_lab::prelude::*;
/// let dataset = load::scan("chest_xray")?;
/// let network = pretrained::Network::from_cache()?;
/// let embeddings = decode::embeddings(&dataset.images, &network, &DecodeOptions::new())?;
/// assert_eq!(embeddings.cols(), 1280);
/// # Ok::<(), xray_lab::Error>(())
/// ```
#[cfg(feature = "pretrained")]
#[cfg_attr(docsrs, doc(cfg(feature = "pretrained")))]
pub fn embeddings(
    images: &DataFrame,
    network: &crate::pretrained::Network,
    options: &DecodeOptions,
) -> Result<Features> {
    let options = options.clone().size(crate::pretrained::INPUT_SIZE);
    options.check()?;
    decode_rows(
        images,
        &options,
        Some((crate::pretrained::NAME, crate::pretrained::EMBEDDING_SIZE)),
        |decoded, row| {
            let side = crate::pretrained::INPUT_SIZE;
            let gray = GrayImage::from_raw(side, side, decoded.pixels)
                .expect("decoding gives side x side pixels");
            row.copy_from_slice(&network.run(&network.input_from_gray(&gray)).embedding);
        },
    )
}

/// Decodes every image of the table (in parallel, on all cores) and turns each into a row with
/// `compute`: pixels, or an embedding by `network` (its name and the embedding's length).
fn decode_rows(
    images: &DataFrame,
    options: &DecodeOptions,
    network: Option<(&'static str, usize)>,
    compute: impl Fn(Decoded, &mut [f32]) + Sync,
) -> Result<Features> {
    let start = Instant::now();
    frame::require(
        images,
        &[columns::PATH, columns::CLASS, columns::LABEL],
        "decoding",
    )?;
    let paths = frame::strings(images, columns::PATH)?;
    let labels = labels_of(images)?;
    let p = width(options, network);
    let key = key(options, network);

    let Lookup {
        cached,
        keys,
        stamps,
        hits,
    } = look_up(&paths, options, &key, p);
    let misses = hits.iter().filter(|h| h.is_none()).count();

    // Decode straight into the matrix: one allocation of rows x p, filled in parallel.
    let mut matrix = vec![0f32; paths.len() * p];
    let mut histograms = vec![[0u32; 256]; paths.len()];
    let what = if network.is_some() {
        "embedding"
    } else {
        "decoding"
    };
    let reporter = Reporter::new(misses, options.progress, what);
    let results: Vec<Decoding<()>> = matrix
        .par_chunks_mut(p.max(1))
        .zip(histograms.par_iter_mut())
        .enumerate()
        .map(|(i, (row, histogram))| {
            if let Some(at) = hits[i] {
                cached.copy_row(at, row, histogram);
                return Ok(());
            }
            let result = decode_row(&paths[i], options).map(|decoded| {
                *histogram = decoded.histogram;
                compute(decoded, row);
            });
            reporter.tick();
            result
        })
        .collect();
    reporter.finish();

    let (keep, rejects) = drop_rejects(results, &paths, &mut matrix, &mut histograms, p);

    if options.uses_cache() && misses > rejects.len() {
        let fresh_rows: Vec<usize> = (0..keep.len())
            .filter(|&k| hits[keep[k]].is_none())
            .collect();
        // A cache that cannot be written only costs time next run; say so and go on.
        if let Err(e) = cached.update(&keys, &stamps, &keep, &fresh_rows, &matrix, &histograms) {
            log::warn!("the feature cache was not updated: {e}");
        }
    }

    let labels: Vec<u32> = keep.iter().map(|&i| labels[i]).collect();
    let table = decoded_table(images, &paths, &keep, &labels, &histograms)?;

    Ok(Features {
        options: options.clone(),
        network,
        matrix,
        labels,
        images: table,
        histograms,
        decoded: misses - rejects.len(),
        rejects,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Each row's label (a null reads as 0).
fn labels_of(images: &DataFrame) -> Result<Vec<u32>> {
    Ok(frame::column(images, columns::LABEL)?
        .cast(&DataType::UInt32)
        .ctx("reading labels")?
        .u32()
        .ctx("reading labels")?
        .iter()
        .map(|l| l.unwrap_or(0))
        .collect())
}

/// The feature cache for these paths and setting, with each row's key, stamp and place in it.
struct Lookup {
    cached: crate::cache::Cache,
    keys: Vec<String>,
    stamps: Vec<Option<crate::files::Stamp>>,
    /// The cache row of each path whose file is unchanged since it was cached.
    hits: Vec<Option<usize>>,
}

/// Opens the feature cache (an empty one when the options say not to use it) and finds each
/// path in it. Rows are keyed by absolute path, in one cache file per dataset folder and
/// setting.
fn look_up(paths: &[String], options: &DecodeOptions, key: &str, p: usize) -> Lookup {
    let keys: Vec<String> = paths.iter().map(|p| crate::files::key(p)).collect();
    let root = crate::files::common_folder(&keys);
    let folder = options.caches().folder();
    let cached = if options.uses_cache() {
        crate::cache::Cache::open(folder, key, p, &root)
    } else {
        crate::cache::Cache::empty(folder, key, p, &root)
    };
    let stamps: Vec<Option<crate::files::Stamp>> = paths
        .par_iter()
        .map(|path| crate::files::Stamp::of(Path::new(path)))
        .collect();
    let hits = keys
        .iter()
        .zip(&stamps)
        .map(|(key, stamp)| stamp.as_ref().and_then(|s| cached.find(key, s)))
        .collect();
    Lookup {
        cached,
        keys,
        stamps,
        hits,
    }
}

/// Drops the rows that failed, moving the others up (in place: no second matrix). Returns the
/// rows kept (indices into the table) and the rejects.
fn drop_rejects(
    results: Vec<Decoding<()>>,
    paths: &[String],
    matrix: &mut Vec<f32>,
    histograms: &mut Vec<[u32; 256]>,
    p: usize,
) -> (Vec<usize>, Vec<Reject>) {
    let mut rejects = Vec::new();
    let mut keep = Vec::with_capacity(paths.len());
    for (i, result) in results.into_iter().enumerate() {
        match result {
            Ok(()) => keep.push(i),
            Err(reason) => rejects.push(Reject {
                path: PathBuf::from(&paths[i]),
                reason,
            }),
        }
    }
    for (to, &from) in keep.iter().enumerate() {
        if to != from {
            matrix.copy_within(from * p..(from + 1) * p, to * p);
            histograms[to] = histograms[from];
        }
    }
    matrix.truncate(keep.len() * p);
    matrix.shrink_to_fit();
    histograms.truncate(keep.len());
    (keep, rejects)
}

/// The table of the rows kept: `path`, `class`, `subset`/`split`, `label`, and each image's
/// intensity `mean`, `std`, `min`, `max` (from its histogram, on the 0-255 scale).
fn decoded_table(
    images: &DataFrame,
    paths: &[String],
    keep: &[usize],
    labels: &[u32],
    histograms: &[[u32; 256]],
) -> Result<DataFrame> {
    let kept = |v: &[String]| keep.iter().map(|&i| v[i].clone()).collect::<Vec<_>>();
    let subset_col = crate::subset::column_of(images, "decoding").unwrap_or(columns::SPLIT);
    let mut columns = vec![
        Column::new(columns::PATH.into(), kept(paths)),
        Column::new(
            columns::CLASS.into(),
            kept(&frame::strings(images, columns::CLASS)?),
        ),
    ];
    if frame::has_column(images, subset_col) {
        columns.push(Column::new(
            subset_col.into(),
            kept(&frame::strings(images, subset_col)?),
        ));
    }
    columns.push(Column::new(columns::LABEL.into(), labels.to_vec()));
    let (mut mean, mut std, mut min, mut max) = (vec![], vec![], vec![], vec![]);
    for h in histograms {
        let stats = Intensity::of_histogram(h);
        mean.push(stats.mean);
        std.push(stats.std);
        min.push(stats.min as u32);
        max.push(stats.max as u32);
    }
    columns.push(Column::new("mean".into(), mean));
    columns.push(Column::new("std".into(), std));
    columns.push(Column::new("min".into(), min));
    columns.push(Column::new("max".into(), max));
    let table = DataFrame::new_infer_height(columns).ctx("building the decoded table")?;
    Ok(frame::fresh(&table))
}
