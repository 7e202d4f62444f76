//! Decode: image facts from the file headers, 150x150 grayscale features, pixel-intensity
//! statistics, and a list of the files that could not be used, with the reason.
//!
//! The report decoded every image in a Spark Python UDF: PIL `open`, `resize((150, 150))`,
//! `convert("L")`, divide by 255, flatten to 22,500 floats. [`features`] does the same on all
//! cores into one contiguous row-major `f32` matrix:
//!
//! ```
//! use xray_lab::prelude::*;
//! # let tmp = tempfile::tempdir()?;
//! # synth::SynthOptions::new().scale(0.01).write(tmp.path())?;
//! let dataset = load::scan(tmp.path())?;
//! let features = decode::features(&dataset.images, &DecodeOptions::new().cache(false))?;
//! assert_eq!(features.cols(), 150 * 150);
//! assert_eq!(features.rows() + features.rejects.len(), dataset.len());
//! let first: &[f32] = features.row(0);                 // 22,500 values in [0, 1]
//! # assert!(first.iter().all(|v| (0.0..=1.0).contains(v)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **How a pixel is computed, and how it compares with PIL.**
//! - Grayscale as PIL's `convert("L")`: ITU-R 601-2 luma, `L = (19595 R + 38470 G + 7471 B +
//!   32768) >> 16` (Pillow's own fixed-point form). Grayscale files are used as they are.
//! - Resized with a Catmull-Rom cubic filter whose support widens with the downscaling ratio
//!   (`fast_image_resize`'s `CatmullRom` convolution): the same kernel as PIL's default
//!   `BICUBIC` (a = -0.5), antialiased the same way. Decoded at full resolution, the features
//!   differ from Pillow's (`convert("L").resize((150, 150))`) by 0.08 of 255 on average.
//! - **DCT-domain downscaling** (default): a JPEG at least twice the target size in both
//!   dimensions is decoded at 1/2, 1/4 or 1/8 of its size straight from its DCT coefficients
//!   (the trick behind PIL's `draft` mode), then resized. It is several times faster and changes
//!   the features little; the README gives the measured mean absolute difference against full
//!   decoding. [`DecodeOptions::exact`] decodes at full resolution instead.
//!
//! **Bad input never stops a run.** Every file is decoded on its own, behind a pixel limit
//! (against decompression bombs, [`DecodeOptions::max_pixels`]) and a guard that turns a
//! decoder panic into an error; a file that fails is listed in [`Features::rejects`] with the
//! reason, and the rest of the run completes. PNGs (8 and 16 bit, with or without alpha), CMYK
//! and grayscale JPEGs, and images named `.jpeg` that are really PNGs decode correctly.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::Instant;

use image::{GrayImage, ImageDecoder};
use jpeg_decoder::PixelFormat;
use polars::prelude::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, PolarsContext, Result};
pub use crate::facts::RejectReason;
use crate::frame;
pub use crate::progress::Progress;
use crate::progress::Reporter;
use crate::subset::Subset;

/// The report's side: 150x150 pixels, 22,500 features.
pub const DEFAULT_SIZE: u32 = 150;
/// The largest side [`DecodeOptions::size`] accepts: 1,024 (a million features per image).
pub const MAX_SIZE: u32 = 1024;
/// The default pixel limit: 100 megapixels (the largest Kaggle X-ray has about 7).
pub const DEFAULT_MAX_PIXELS: u64 = 100_000_000;

/// How to decode. The settings that change the features ([`DecodeOptions::size`] and
/// [`DecodeOptions::exact`]) key the feature cache and travel with a trained model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecodeOptions {
    size: u32,
    exact: bool,
    #[serde(default)]
    size_blind: bool,
    #[serde(skip, default = "default_max_pixels")]
    max_pixels: u64,
    #[serde(skip)]
    progress: Progress,
    #[serde(skip, default = "yes")]
    cache: bool,
    #[serde(skip)]
    cache_dir: Option<PathBuf>,
}

fn default_max_pixels() -> u64 {
    DEFAULT_MAX_PIXELS
}

fn yes() -> bool {
    true
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            size: DEFAULT_SIZE,
            exact: false,
            size_blind: false,
            max_pixels: DEFAULT_MAX_PIXELS,
            progress: Progress::Auto,
            cache: true,
            cache_dir: None,
        }
    }
}

impl DecodeOptions {
    /// The report's settings: 150x150, DCT downscaling on, cache on.
    pub fn new() -> Self {
        Self::default()
    }
    /// The side of the square features (150 gives 22,500 values per image), from 1 to
    /// [`MAX_SIZE`]; decoding refuses any other.
    pub fn size(mut self, size: u32) -> Self {
        self.size = size;
        self
    }
    /// Decode every JPEG at full resolution (no DCT downscaling).
    pub fn exact(mut self, yes: bool) -> Self {
        self.exact = yes;
        self
    }
    /// Size-blind decoding: every image is decoded at full resolution (no DCT scale, which
    /// [`DecodeOptions::new`] chooses from the image's size) and cut to its central square
    /// before the `size x size` step (no stretch, which depends on the aspect). On the Kaggle
    /// files the size and aspect differ by class, so the usual decoding treats the classes
    /// differently; this one treats every image alike. What it cannot remove: a wider film
    /// loses more of its sides to the crop, and a larger film averages more of its pixels into
    /// each feature. Slower (as [`DecodeOptions::exact`]).
    pub fn size_blind(mut self, yes: bool) -> Self {
        self.size_blind = yes;
        self
    }
    /// Whether decoding is size-blind ([`DecodeOptions::size_blind`]).
    pub fn is_size_blind(&self) -> bool {
        self.size_blind
    }
    /// Whether a JPEG may be decoded at a DCT scale.
    fn dct_scaling(&self) -> bool {
        !self.exact && !self.size_blind
    }
    /// Reject images whose header claims more pixels than this.
    pub fn max_pixels(mut self, pixels: u64) -> Self {
        self.max_pixels = pixels;
        self
    }
    /// How to show progress.
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }
    /// Read and write the feature cache (default: yes; see [`crate::cache`]).
    pub fn cache(mut self, yes: bool) -> Self {
        self.cache = yes;
        self
    }
    /// Keep the caches (features and file facts) in `folder` instead of
    /// [`crate::env::cache_dir`].
    pub fn cache_in(mut self, folder: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(folder.into());
        self
    }
    /// The folder the caches are kept in.
    pub fn cache_folder(&self) -> PathBuf {
        self.cache_dir.clone().unwrap_or_else(crate::env::cache_dir)
    }
    /// The feature cache file for the images under `root` (see [`crate::cache`]).
    pub fn cache_file(&self, root: impl AsRef<Path>) -> PathBuf {
        crate::cache::cache_file(&self.cache_folder(), &self.key(), root.as_ref())
    }
    /// Checks the settings: a size from 1 to [`MAX_SIZE`], a pixel limit above 0.
    pub fn check(&self) -> Result<()> {
        if !(1..=MAX_SIZE).contains(&self.size) {
            return Err(Error::Parameter {
                name: "size",
                value: self.size.to_string(),
                expected: format!("a side from 1 to {MAX_SIZE} pixels"),
            });
        }
        if self.max_pixels == 0 {
            return Err(Error::Parameter {
                name: "max_pixels",
                value: "0".into(),
                expected: "a pixel limit above 0".into(),
            });
        }
        Ok(())
    }
    /// The side of the features.
    pub fn side(&self) -> u32 {
        self.size
    }
    /// Whether JPEGs are decoded at full resolution.
    pub fn is_exact(&self) -> bool {
        self.exact
    }
    pub(crate) fn uses_cache(&self) -> bool {
        self.cache
    }
    /// A short name for the settings that change the features, e.g. `150px-dct`
    /// (`150px-exact`, `150px-sizeblind`).
    pub fn key(&self) -> String {
        let how = if self.size_blind {
            "sizeblind"
        } else if self.exact {
            "exact"
        } else {
            "dct"
        };
        format!("{}px-{how}", self.size)
    }
}

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

type Decoding<T> = std::result::Result<T, RejectReason>;

/// Decoded features: one row per decoded image, in the order of the table they came from.
#[derive(Debug, Clone)]
pub struct Features {
    options: DecodeOptions,
    /// The network whose embeddings the rows are, and their length (`embeddings`, cargo
    /// feature `pretrained`); `None` for pixels.
    network: Option<(&'static str, usize)>,
    matrix: Vec<f32>,
    labels: Vec<u32>,
    images: DataFrame,
    histograms: Vec<[u32; 256]>,
    /// The files that could not be decoded, with the reason.
    pub rejects: Vec<Reject>,
    /// How many rows were decoded in this call (the rest came from the cache).
    pub decoded: usize,
    /// Wall-clock seconds of the call.
    pub seconds: f64,
}

impl Features {
    /// What a call to [`features`] did, as a one-row table: rows, features per row, the
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
    /// they are pixels ([`features`]).
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
        let classes = frame::strings(&self.images, "class")?;
        let groups = if group == "class" {
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
            "class" => out.iter().map(|e| e.1.clone()).collect::<Vec<_>>(),
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
        let classes = frame::strings(&self.images, "class")?;
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
        let df = df!("class" => class, "intensity" => intensity, "share" => share)
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
        "path" => rejects.iter().map(|r| r.path.to_string_lossy().into_owned()).collect::<Vec<_>>(),
        "reason" => rejects.iter().map(|r| r.reason.to_string()).collect::<Vec<_>>(),
    )
    .ctx("building the rejects table")?;
    Ok(frame::fresh(&df))
}

// ---------------------------------------------------------------------------------------------
// Decoding.

/// Decodes one file to a `size x size` grayscale image (0-255), as [`features`] does for each row.
pub fn decode_file(path: impl AsRef<Path>, options: &DecodeOptions) -> Result<GrayImage> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| crate::error::Error::io(path, e))?;
    guarded_decode(&bytes, options).map_err(|reason| crate::error::Error::Decode {
        path: path.to_path_buf(),
        reason,
    })
}

/// Decodes bytes to a `size x size` grayscale image, turning a decoder panic into an error.
pub fn decode_bytes(bytes: &[u8], options: &DecodeOptions) -> Decoding<GrayImage> {
    guarded_decode(bytes, options)
}

fn guarded_decode(bytes: &[u8], options: &DecodeOptions) -> Decoding<GrayImage> {
    match std::panic::catch_unwind(|| decode_gray(bytes, options)) {
        Ok(result) => result,
        Err(panic) => Err(RejectReason::Failed(format!(
            "the decoder failed unexpectedly ({})",
            panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into())
        ))),
    }
}

fn decode_gray(bytes: &[u8], options: &DecodeOptions) -> Decoding<GrayImage> {
    if bytes.is_empty() {
        return Err(RejectReason::Empty);
    }
    let size = options.size;
    let mut full = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        decode_jpeg(bytes, options)?
    } else {
        decode_other(bytes, options)?
    };
    if options.size_blind {
        let (w, h) = full.dimensions();
        let side = w.min(h);
        full =
            image::imageops::crop_imm(&full, (w - side) / 2, (h - side) / 2, side, side).to_image();
    }
    if full.dimensions() == (size, size) {
        return Ok(full);
    }
    resize(full, size)
}

/// Resizes to `size x size` with fast_image_resize's Catmull-Rom convolution: the kernel of
/// PIL's default BICUBIC (a = -0.5), its support widened by the downscaling ratio (antialiased),
/// computed in SIMD fixed point as Pillow-SIMD does. About 10x faster than `image`'s resize here.
fn resize(image: GrayImage, size: u32) -> Decoding<GrayImage> {
    use fast_image_resize as fir;
    let (w, h) = image.dimensions();
    let src = fir::images::Image::from_vec_u8(w, h, image.into_raw(), fir::PixelType::U8)
        .map_err(|e| RejectReason::Failed(format!("cannot resize: {e}")))?;
    let mut dst = fir::images::Image::new(size, size, fir::PixelType::U8);
    let options = fir::ResizeOptions::new()
        .resize_alg(fir::ResizeAlg::Convolution(fir::FilterType::CatmullRom));
    fir::Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(|e| RejectReason::Failed(format!("cannot resize: {e}")))?;
    GrayImage::from_raw(size, size, dst.into_vec())
        .ok_or_else(|| RejectReason::Failed("cannot resize".into()))
}

fn check_pixels(width: u64, height: u64, options: &DecodeOptions) -> Decoding<()> {
    if width == 0 || height == 0 {
        return Err(RejectReason::NoPixels { width, height });
    }
    if width * height > options.max_pixels {
        return Err(RejectReason::TooLarge {
            width,
            height,
            limit: options.max_pixels,
        });
    }
    Ok(())
}

/// The largest DCT scale (8, 4, 2 or 1) that keeps both sides at least `target`.
fn dct_factor(width: u32, height: u32, target: u32) -> u32 {
    [8, 4, 2]
        .into_iter()
        .find(|&f| width.div_ceil(f) >= target && height.div_ceil(f) >= target)
        .unwrap_or(1)
}

/// JPEG decoding with libjpeg-turbo (through the `mozjpeg` crate), for the common 8-bit
/// grayscale, RGB and YCbCr files; CMYK, YCCK and 12/16-bit files go to [`decode_jpeg_rust`].
///
/// libjpeg reports a fatal error by unwinding (the crate's convention, without the panic
/// hook, so nothing is printed); it is caught here and becomes the reason. Its warnings are
/// recorded: a file that ends early decodes with gray filling the rest, and is rejected as
/// truncated, as Pillow does; other warnings (stray bytes between markers) are accepted, as
/// Pillow accepts them.
fn decode_jpeg(bytes: &[u8], options: &DecodeOptions) -> Decoding<GrayImage> {
    use mozjpeg::ColorSpace as CS;
    TRUNCATED.with(|t| t.set(false));
    let outcome = std::panic::catch_unwind(|| -> Decoding<Option<GrayImage>> {
        let mut decoder = mozjpeg::Decompress::with_err(libjpeg_errors())
            .from_mem(bytes)
            .map_err(|e| RejectReason::BadHeader(format!("bad JPEG header: {e}")))?;
        if !matches!(
            decoder.color_space(),
            CS::JCS_GRAYSCALE | CS::JCS_RGB | CS::JCS_YCbCr
        ) || decoder.components().len() > 3
        {
            return Ok(None);
        }
        let (w, h) = (decoder.width() as u32, decoder.height() as u32);
        check_pixels(w as u64, h as u64, options)?;
        if options.dct_scaling() {
            decoder.scale((8 / dct_factor(w, h, options.size)) as u8);
        }
        // YCbCr to gray keeps the luma channel, JFIF's Y = 0.299 R + 0.587 G + 0.114 B: the
        // weights of PIL's convert("L").
        let mut started = decoder
            .grayscale()
            .map_err(|e| RejectReason::Corrupt(format!("cannot decode JPEG: {e}")))?;
        let (out_w, out_h) = (started.width() as u32, started.height() as u32);
        let pixels: Vec<u8> = started
            .read_scanlines()
            .map_err(|e| RejectReason::Corrupt(format!("corrupt JPEG: {e}")))?;
        let _ = started.finish();
        if TRUNCATED.with(|t| t.get()) {
            return Err(truncated_jpeg());
        }
        GrayImage::from_raw(out_w, out_h, pixels)
            .map(Some)
            .ok_or_else(|| {
                RejectReason::Corrupt("corrupt JPEG: fewer pixels than its header claims".into())
            })
    });
    match outcome {
        Ok(Ok(Some(image))) => Ok(image),
        Ok(Ok(None)) => decode_jpeg_rust(bytes, options),
        Ok(Err(reason)) => Err(reason),
        Err(panic) => Err(RejectReason::Corrupt(match panic.downcast::<String>() {
            Ok(message) => format!("corrupt JPEG: {}", message.trim_start_matches("libjpeg: ")),
            Err(_) => "corrupt JPEG".into(),
        })),
    }
}

fn truncated_jpeg() -> RejectReason {
    RejectReason::Truncated("truncated JPEG: the file ends before its image data does".into())
}

thread_local! {
    /// Set by libjpeg's warning hook when the data ended early (JWRN_JPEG_EOF).
    static TRUNCATED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn libjpeg_errors() -> mozjpeg_sys::jpeg_error_mgr {
    // SAFETY: jpeg_std_error fills every field of the zeroed struct with libjpeg's defaults.
    let mut errors: mozjpeg_sys::jpeg_error_mgr = unsafe { std::mem::zeroed() };
    unsafe { mozjpeg_sys::jpeg_std_error(&mut errors) };
    errors.error_exit = Some(libjpeg_fatal);
    errors.emit_message = Some(libjpeg_message);
    errors
}

extern "C-unwind" fn libjpeg_message(
    cinfo: &mut mozjpeg_sys::jpeg_common_struct,
    level: std::os::raw::c_int,
) {
    // SAFETY: libjpeg passes its own struct, whose `err` is the manager set above.
    let code = unsafe { cinfo.err.as_ref() }.map(|e| e.msg_code);
    if level < 0 && code == Some(mozjpeg_sys::JWRN_JPEG_EOF) {
        TRUNCATED.with(|t| t.set(true));
    }
}

extern "C-unwind" fn libjpeg_fatal(cinfo: &mut mozjpeg_sys::jpeg_common_struct) {
    let mut buffer = [0u8; 80];
    // SAFETY: as the mozjpeg crate's own handler: format_message writes a NUL-terminated message
    // of at most 80 bytes into the buffer (the binding declares it `&[u8; 80]`, hence the cast).
    unsafe {
        if let Some(format) = cinfo.err.as_ref().and_then(|e| e.format_message) {
            let format: unsafe extern "C-unwind" fn(
                &mut mozjpeg_sys::jpeg_common_struct,
                &mut [u8; 80],
            ) = std::mem::transmute(format);
            format(cinfo, &mut buffer);
        }
    }
    let text = buffer.split(|&c| c == 0).next().unwrap_or_default();
    let message = format!("libjpeg: {}", String::from_utf8_lossy(text));
    // Unwinds to the catch_unwind in decode_jpeg without running the panic hook (no output).
    std::panic::resume_unwind(Box::new(message));
}

/// JPEG decoding in pure Rust (jpeg-decoder): CMYK/YCCK (Adobe) and 12/16-bit files.
fn decode_jpeg_rust(bytes: &[u8], options: &DecodeOptions) -> Decoding<GrayImage> {
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    let info = crate::facts::jpeg_info(&mut decoder)?;
    let (w, h) = (info.width as u32, info.height as u32);
    check_pixels(w as u64, h as u64, options)?;
    let (mut out_w, mut out_h) = (w, h);
    if options.dct_scaling() {
        let f = dct_factor(w, h, options.size);
        if f > 1 {
            let (sw, sh) = decoder
                .scale(w.div_ceil(f) as u16, h.div_ceil(f) as u16)
                .map_err(|e| RejectReason::Corrupt(format!("cannot downscale JPEG: {e}")))?;
            (out_w, out_h) = (sw as u32, sh as u32);
        }
    }
    let pixels = decoder.decode().map_err(|e| match e {
        jpeg_decoder::Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            truncated_jpeg()
        }
        e => RejectReason::Corrupt(format!("corrupt JPEG: {e}")),
    })?;
    let n = (out_w * out_h) as usize;
    let luma: Vec<u8> = match info.pixel_format {
        PixelFormat::L8 => pixels,
        // 16-bit (lossless) JPEG, big-endian samples: keep the high byte, as PIL's I;16 -> L.
        PixelFormat::L16 => pixels.chunks_exact(2).map(|p| p[0]).collect(),
        PixelFormat::RGB24 => pixels
            .chunks_exact(3)
            .map(|p| luma601(p[0], p[1], p[2]))
            .collect(),
        PixelFormat::CMYK32 => pixels
            .chunks_exact(4)
            .map(|p| {
                // As PIL's CMYK -> RGB: each channel is (255 - ink) scaled by (255 - black).
                let k = 255 - p[3] as u32;
                let ch = |c: u8| ((255 - c as u32) * k / 255) as u8;
                luma601(ch(p[0]), ch(p[1]), ch(p[2]))
            })
            .collect(),
    };
    if luma.len() < n {
        return Err(RejectReason::Truncated(format!(
            "corrupt or truncated JPEG: {} of {n} pixels decoded",
            luma.len()
        )));
    }
    GrayImage::from_raw(out_w, out_h, luma)
        .ok_or_else(|| RejectReason::Failed("decoded pixels do not fit".into()))
}

fn decode_other(bytes: &[u8], options: &DecodeOptions) -> Decoding<GrayImage> {
    let (format, decoder) = crate::facts::open_decoder(Cursor::new(bytes))?;
    let (w, h) = decoder.dimensions();
    check_pixels(w as u64, h as u64, options)?;
    let image = image::DynamicImage::from_decoder(decoder)
        .map_err(|e| RejectReason::Corrupt(format!("corrupt or truncated {format:?}: {e}")))?;
    use image::ColorType::*;
    Ok(match image.color() {
        // Grayscale, with or without alpha (dropped, as PIL's convert("L") does).
        L8 | La8 | L16 | La16 => image.to_luma8(),
        _ => {
            let rgb = image.to_rgb8();
            let (w, h) = rgb.dimensions();
            let luma = rgb
                .pixels()
                .map(|p| luma601(p.0[0], p.0[1], p.0[2]))
                .collect();
            GrayImage::from_raw(w, h, luma)
                .ok_or_else(|| RejectReason::Failed("decoded pixels do not fit".into()))?
        }
    })
}

/// ITU-R 601-2 luma in Pillow's fixed-point form (`ImagingConvertRGB2L`).
#[inline]
fn luma601(r: u8, g: u8, b: u8) -> u8 {
    ((r as u32 * 19595 + g as u32 * 38470 + b as u32 * 7471 + 0x8000) >> 16) as u8
}

/// One decoded row: the resized grayscale pixels (0-255) and their histogram.
pub(crate) struct Decoded {
    pub(crate) pixels: Vec<u8>,
    pub(crate) histogram: [u32; 256],
}

pub(crate) fn decode_row(path: &str, options: &DecodeOptions) -> Decoding<Decoded> {
    let bytes = std::fs::read(path).map_err(|e| RejectReason::Unreadable(e.to_string()))?;
    let image = guarded_decode(&bytes, options)?;
    let pixels = image.into_raw();
    let histogram = histogram(&pixels);
    Ok(Decoded { pixels, histogram })
}

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

/// Turns decoded pixels (0-255) into feature values in [0, 1], as every row of [`features`]
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

/// An image's pixel intensities on the 0-255 scale: the `mean`, `std` (population), `min` and
/// `max` columns of the features table, computed from the decoded (resized) pixels.
///
/// ```
/// let stats = xray_lab::decode::Intensity::of_pixels(&[0, 100, 200]);
/// assert_eq!((stats.mean, stats.min, stats.max), (100.0, 0, 200));
/// assert!((stats.std - 81.65).abs() < 0.01);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Intensity {
    /// Mean pixel value.
    pub mean: f64,
    /// Standard deviation (of the population of pixels).
    pub std: f64,
    /// Darkest pixel.
    pub min: u8,
    /// Brightest pixel.
    pub max: u8,
}

impl Intensity {
    /// The statistics of a grayscale image's pixels.
    pub fn of_pixels(pixels: &[u8]) -> Self {
        Self::of_histogram(&histogram(pixels))
    }

    /// The statistics from a 256-bin histogram of pixel values.
    pub fn of_histogram(h: &[u32; 256]) -> Self {
        let n = h.iter().map(|&c| c as u64).sum::<u64>().max(1) as f64;
        let mean = h
            .iter()
            .enumerate()
            .map(|(v, &c)| v as f64 * c as f64)
            .sum::<f64>()
            / n;
        let var = h
            .iter()
            .enumerate()
            .map(|(v, &c)| (v as f64 - mean).powi(2) * c as f64)
            .sum::<f64>()
            / n;
        Intensity {
            mean,
            std: var.sqrt(),
            min: h.iter().position(|&c| c > 0).unwrap_or(0) as u8,
            max: h.iter().rposition(|&c| c > 0).unwrap_or(0) as u8,
        }
    }
}

fn histogram(pixels: &[u8]) -> [u32; 256] {
    let mut histogram = [0u32; 256];
    for &v in pixels {
        histogram[v as usize] += 1;
    }
    histogram
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

/// Values per row: `side * side` pixels, or an embedding's length.
fn width(options: &DecodeOptions, network: Option<(&str, usize)>) -> usize {
    match network {
        Some((_, size)) => size,
        None => options.side() as usize * options.side() as usize,
    }
}

/// The cache key of rows decoded with `options`, embedded by `network` if any.
fn key(options: &DecodeOptions, network: Option<(&str, usize)>) -> String {
    match network {
        Some((network, _)) => format!("{network}-{}", options.key()),
        None => options.key(),
    }
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
    frame::require(images, &["path", "class", "label"], "decoding")?;
    let paths = frame::strings(images, "path")?;
    let labels: Vec<u32> = frame::column(images, "label")?
        .cast(&DataType::UInt32)
        .ctx("reading labels")?
        .u32()
        .ctx("reading labels")?
        .iter()
        .map(|l| l.unwrap_or(0))
        .collect();
    let p = width(options, network);
    let key = key(options, network);

    // Rows are keyed by absolute path, in one cache file per dataset folder and setting.
    let keys: Vec<String> = paths.iter().map(|p| crate::files::key(p)).collect();
    let root = crate::files::common_folder(&keys);
    let folder = options.cache_folder();
    let cached = if options.uses_cache() {
        crate::cache::Cache::open(&folder, &key, p, &root)
    } else {
        crate::cache::Cache::empty(&folder, &key, p, &root)
    };
    let stamps: Vec<Option<crate::files::Stamp>> = paths
        .par_iter()
        .map(|path| crate::files::Stamp::of(Path::new(path)))
        .collect();
    let hits: Vec<Option<usize>> = keys
        .iter()
        .zip(&stamps)
        .map(|(key, stamp)| stamp.as_ref().and_then(|s| cached.find(key, s)))
        .collect();
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
    let subset_col = crate::subset::column_of(images, "decoding").unwrap_or("split");
    let mut columns = vec![
        Column::new("path".into(), kept(paths)),
        Column::new("class".into(), kept(&frame::strings(images, "class")?)),
    ];
    if frame::has_column(images, subset_col) {
        columns.push(Column::new(
            subset_col.into(),
            kept(&frame::strings(images, subset_col)?),
        ));
    }
    columns.push(Column::new("label".into(), labels.to_vec()));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dct_factor_keeps_both_sides_at_least_the_target() {
        assert_eq!(dct_factor(2000, 1600, 150), 8);
        assert_eq!(dct_factor(1000, 500, 150), 2);
        assert_eq!(dct_factor(400, 130, 150), 1);
        assert_eq!(dct_factor(1200, 1200, 150), 8);
        assert_eq!(dct_factor(1199, 1199, 150), 8); // 1199 / 8 rounds up to 150
        assert_eq!(dct_factor(1190, 1190, 150), 4);
    }

    #[test]
    fn luma_matches_pillow() {
        // Pillow: Image.new("RGB", (1, 1), (200, 100, 50)).convert("L").getpixel((0, 0)) == 124
        assert_eq!(luma601(200, 100, 50), 124);
        assert_eq!(luma601(255, 255, 255), 255);
        assert_eq!(luma601(0, 0, 0), 0);
    }
}
