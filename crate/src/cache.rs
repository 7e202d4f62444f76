//! The feature cache: decoded features kept as Arrow IPC files, so a re-run loads instead of
//! decoding.
//!
//! One file per dataset folder and decode setting (`features-v1-150px-dct-<folder hash>.arrow`
//! in the [`Caches`] folder; the folder hashed is the deepest one holding every image decoded
//! together), one
//! row per image decoded with it: `path`, `bytes`, `mtime_ns`, `histogram` (256 counts) and
//! `features` (a list of `size * size` floats). A row is reused only when the file still has the
//! same size and modification time; a changed or added file is decoded again and the cache is
//! rewritten. Writes go to a temporary file in the same folder that is then renamed over the
//! old one, so a crash mid-write leaves the previous cache (or none), never a partial one that
//! loads. The same format is what `xray-lab features --out FILE` writes; polars and pyarrow read
//! it (`pyarrow.ipc.open_file`).

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use polars_io::{SerReader, SerWriter};

use crate::columns;
use crate::error::{Error, PolarsContext, Result};
use crate::files::{write_whole, Stamp};
use crate::frame;

/// Where xray-lab keeps what it can compute again: decoded features, file facts (with content
/// hashes), the default synthetic dataset. Chosen once, here: `$XRAY_LAB_CACHE`, else
/// `$XDG_CACHE_HOME/xray-lab`, else `~/.cache/xray-lab`, else the system's temporary folder
/// ([`crate::env::cache_dir`]); or a folder of your own, which the options that read or write
/// a cache carry (`DecodeOptions::cache_in`, `ResplitOptions::cache_in`).
///
/// ```
/// use xray_lab::cache::Caches;
/// let tmp = tempfile::tempdir()?;
/// let caches = Caches::in_folder(tmp.path());
/// assert_eq!(caches.folder(), tmp.path());
/// assert_eq!(Caches::default().folder(), xray_lab::env::cache_dir());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caches {
    folder: PathBuf,
}

impl Default for Caches {
    /// The user's cache folder ([`crate::env::cache_dir`]).
    fn default() -> Self {
        Caches {
            folder: crate::env::cache_dir(),
        }
    }
}

impl Caches {
    /// Every cache in `folder` (a test's temporary folder, a second dataset's own).
    pub fn in_folder(folder: impl Into<PathBuf>) -> Self {
        Caches {
            folder: folder.into(),
        }
    }

    /// The folder the caches are kept in.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// The feature cache file for the images under `root` decoded with the setting `key`.
    pub fn features_file(&self, key: &str, root: &Path) -> PathBuf {
        cache_file(&self.folder, key, root)
    }
}

/// The cache format's version: a change makes old cache files be ignored.
const FORMAT: u32 = 1;

/// The cache file, under `folder`, for the images under `root` decoded with the setting `key`
/// (see [`DecodeOptions::key`](crate::decode::DecodeOptions::key)).
///
/// One file per dataset, not one shared by all of them: a run loads only its own rows (a warm
/// run of the full synthetic dataset reads 530 MB, not every dataset ever decoded), and a dataset
/// that is deleted leaves one file to remove, not rows inside another's.
pub fn cache_file(folder: &Path, key: &str, root: &Path) -> PathBuf {
    let hash = xxhash_rust::xxh3::xxh3_64(root.to_string_lossy().as_bytes());
    folder.join(format!("features-v{FORMAT}-{key}-{hash:016x}.arrow"))
}

/// The cache file of xray-lab 0.1 before it was split per dataset: one file per setting for
/// every dataset, so it only grew. Removed when found (its rows are decoded again once).
fn legacy_cache_file(folder: &Path, key: &str) -> PathBuf {
    folder.join(format!("features-v{FORMAT}-{key}.arrow"))
}

/// The rows of one cache file, in memory.
pub(crate) struct Cache {
    file: PathBuf,
    p: usize,
    paths: Vec<String>,
    stamps: Vec<Stamp>,
    matrix: Vec<f32>,
    histograms: Vec<[u32; 256]>,
    index: HashMap<String, usize>,
}

impl Cache {
    /// An empty cache for rows of `width` features (`side x side` pixels, or an embedding)
    /// computed with the setting `key`.
    pub(crate) fn empty(folder: &Path, key: &str, width: usize, root: &Path) -> Cache {
        Cache {
            file: cache_file(folder, key, root),
            p: width,
            paths: vec![],
            stamps: vec![],
            matrix: vec![],
            histograms: vec![],
            index: HashMap::new(),
        }
    }

    /// Loads the cache of this dataset and setting; a missing or unreadable cache is an empty
    /// one (an unreadable one is logged as a warning and then replaced).
    pub(crate) fn open(folder: &Path, key: &str, width: usize, root: &Path) -> Cache {
        let legacy = legacy_cache_file(folder, key);
        if legacy.exists() && std::fs::remove_file(&legacy).is_ok() {
            log::info!(
                "removed the old shared feature cache {} (caches are now one file per dataset)",
                legacy.display()
            );
        }
        let mut cache = Cache::empty(folder, key, width, root);
        if !cache.file.exists() {
            return cache;
        }
        if let Err(e) = cache.load() {
            log::warn!(
                "ignoring the feature cache {} ({e}); it will be rebuilt",
                cache.file.display()
            );
            return Cache::empty(folder, key, width, root);
        }
        cache
    }

    fn load(&mut self) -> Result<()> {
        let table = read_table(&self.file)?;
        let paths = crate::frame::strings(&table, columns::PATH)?;
        let bytes = u64s(&table, columns::BYTES)?;
        let mtime = frame::column(&table, "mtime_ns")?
            .i64()
            .ctx("reading the cache")?
            .iter()
            .map(|v| v.unwrap_or(i64::MIN))
            .collect::<Vec<_>>();
        let matrix = flat_f32(&table, "features", self.p)?;
        let hist = flat_u32(&table, "histogram", 256)?;
        self.histograms = hist
            .chunks_exact(256)
            .map(|c| c.try_into().expect("256 bins"))
            .collect();
        self.stamps = bytes
            .into_iter()
            .zip(mtime)
            .map(|(bytes, mtime_ns)| Stamp { bytes, mtime_ns })
            .collect();
        self.index = paths
            .iter()
            .enumerate()
            .map(|(i, p)| (p.clone(), i))
            .collect();
        self.paths = paths;
        self.matrix = matrix;
        Ok(())
    }

    pub(crate) fn find(&self, path: &str, stamp: &Stamp) -> Option<usize> {
        let &at = self.index.get(path)?;
        (self.stamps[at] == *stamp).then_some(at)
    }

    pub(crate) fn copy_row(&self, at: usize, row: &mut [f32], histogram: &mut [u32; 256]) {
        row.copy_from_slice(&self.matrix[at * self.p..(at + 1) * self.p]);
        *histogram = self.histograms[at];
    }

    /// Adds the newly decoded rows (replacing older rows of the same path) and rewrites the file
    /// atomically (temporary file, then rename).
    pub(crate) fn update(
        &self,
        paths: &[String],
        stamps: &[Option<Stamp>],
        keep: &[usize],
        fresh_rows: &[usize],
        matrix: &[f32],
        histograms: &[[u32; 256]],
    ) -> Result<()> {
        let p = self.p;
        let replaced: std::collections::HashSet<&str> = fresh_rows
            .iter()
            .map(|&k| paths[keep[k]].as_str())
            .collect();
        // Rows of files that no longer exist are dropped, so the cache does not grow forever.
        let old: Vec<usize> = (0..self.paths.len())
            .filter(|&i| !replaced.contains(self.paths[i].as_str()))
            .filter(|&i| Path::new(&self.paths[i]).exists())
            .collect();
        // Every output row: an old cached row, or a freshly decoded one (with its stamp).
        enum Row {
            Old(usize),
            Fresh(usize, usize, Stamp),
        }
        let rows: Vec<Row> = old
            .into_iter()
            .map(Row::Old)
            .chain(fresh_rows.iter().filter_map(|&k| {
                let i = keep[k];
                stamps[i].map(|stamp| Row::Fresh(k, i, stamp))
            }))
            .collect();
        write_batches_atomically(&self.file, rows.len(), |range| {
            let n = range.len();
            let mut out_paths = Vec::with_capacity(n);
            let mut out_bytes = Vec::with_capacity(n);
            let mut out_mtime = Vec::with_capacity(n);
            let mut features = ListPrimitiveChunkedBuilder::<Float32Type>::new(
                "features".into(),
                n,
                n * p,
                DataType::Float32,
            );
            let mut hist = ListPrimitiveChunkedBuilder::<UInt32Type>::new(
                "histogram".into(),
                n,
                n * 256,
                DataType::UInt32,
            );
            for row in &rows[range] {
                match *row {
                    Row::Old(i) => {
                        out_paths.push(self.paths[i].clone());
                        out_bytes.push(self.stamps[i].bytes);
                        out_mtime.push(self.stamps[i].mtime_ns);
                        features.append_slice(&self.matrix[i * p..(i + 1) * p]);
                        hist.append_slice(&self.histograms[i]);
                    }
                    Row::Fresh(k, i, stamp) => {
                        out_paths.push(paths[i].clone());
                        out_bytes.push(stamp.bytes);
                        out_mtime.push(stamp.mtime_ns);
                        features.append_slice(&matrix[k * p..(k + 1) * p]);
                        hist.append_slice(&histograms[k]);
                    }
                }
            }
            DataFrame::new_infer_height(vec![
                Column::new(columns::PATH.into(), out_paths),
                Column::new(columns::BYTES.into(), out_bytes),
                Column::new("mtime_ns".into(), out_mtime),
                hist.finish().into_series().into(),
                features.finish().into_series().into(),
            ])
            .ctx("building the feature cache")
        })
    }
}

/// Rows per Arrow record batch: the feature files are written a batch at a time, so writing
/// costs one batch of memory (256 x 22,500 floats = 23 MB), not a second copy of the matrix.
const BATCH_ROWS: usize = 256;

/// Writes `rows` rows as Arrow IPC, `batch(range)` building the table of each range of rows,
/// whole or not at all ([`write_whole`]).
pub(crate) fn write_batches_atomically(
    file: &Path,
    rows: usize,
    batch: impl Fn(std::ops::Range<usize>) -> Result<DataFrame>,
) -> Result<()> {
    let ipc_error = |e: PolarsError| Error::Format {
        path: file.to_path_buf(),
        reason: format!("cannot write Arrow IPC: {e}"),
    };
    write_whole(file, |out| {
        let first = batch(0..rows.min(BATCH_ROWS))?;
        let schema = first.schema().clone();
        let arrow_schema = schema.to_arrow(CompatLevel::newest());
        let fields = polars_arrow::io::ipc::write::default_ipc_fields(arrow_schema.iter_values());
        let mut writer = polars_io::ipc::IpcWriter::new(out)
            .batched(&schema, fields)
            .map_err(ipc_error)?;
        writer.write_batch(&first).map_err(ipc_error)?;
        drop(first);
        let mut start = BATCH_ROWS;
        while start < rows {
            let table = batch(start..rows.min(start + BATCH_ROWS))?;
            writer.write_batch(&table).map_err(ipc_error)?;
            start += BATCH_ROWS;
        }
        writer.finish().map_err(ipc_error)
    })
}

/// Reads an Arrow IPC table written by this crate.
pub fn read_table(file: &Path) -> Result<DataFrame> {
    let handle = File::open(file).map_err(|e| Error::io(file, e))?;
    // No rechunk: the reader would copy each column into one chunk; `flat` reads the chunks.
    let table = polars_io::ipc::IpcReader::new(handle)
        .set_rechunk(false)
        .finish()
        .map_err(|e| Error::Format {
            path: file.to_path_buf(),
            reason: format!("not a readable Arrow IPC file: {e}"),
        })?;
    Ok(frame::fresh(&table))
}

fn u64s(table: &DataFrame, name: &str) -> Result<Vec<u64>> {
    Ok(frame::column(table, name)?
        .u64()
        .ctx("reading the cache")?
        .iter()
        .map(|v| v.unwrap_or(u64::MAX))
        .collect())
}

/// A list column of fixed-length rows, flattened (checked: every row has `width` values).
fn flat_f32(table: &DataFrame, name: &str, width: usize) -> Result<Vec<f32>> {
    flat(table, name, width)
}

fn flat_u32(table: &DataFrame, name: &str, width: usize) -> Result<Vec<u32>> {
    flat(table, name, width)
}

/// Copies the values of a list column straight out of its Arrow chunks, one `memcpy` per row:
/// no rechunk (which would copy the whole column once more) and no Series per row.
fn flat<T: polars_arrow::types::NativeType>(
    table: &DataFrame,
    name: &str,
    width: usize,
) -> Result<Vec<T>> {
    use polars_arrow::array::{Array, PrimitiveArray};
    let list = frame::column(table, name)?
        .list()
        .ctx("reading a list column")?;
    let bad = |reason: String| Error::Incompatible {
        what: format!("the `{name}` column"),
        reason,
    };
    let mut out = Vec::with_capacity(list.len() * width);
    for chunk in list.downcast_iter() {
        if chunk.null_count() > 0 {
            return Err(bad("a row is empty".into()));
        }
        let values = chunk
            .values()
            .as_any()
            .downcast_ref::<PrimitiveArray<T>>()
            .ok_or_else(|| bad("its values are of another type".into()))?;
        if values.null_count() > 0 {
            return Err(bad("it holds missing values".into()));
        }
        let values = values.values().as_slice();
        for pair in chunk.offsets().buffer().windows(2) {
            let (start, end) = (pair[0] as usize, pair[1] as usize);
            if end - start != width || end > values.len() {
                return Err(bad(format!(
                    "a row has {} values, expected {width}",
                    end.saturating_sub(start)
                )));
            }
            out.extend_from_slice(&values[start..end]);
        }
    }
    Ok(out)
}
