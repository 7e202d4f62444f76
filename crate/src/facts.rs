//! Image facts: what each file's header says (size, mode, bit depth, progressive), read
//! without decoding a pixel, and the per-file cache that keeps them (with content hashes)
//! while a file is unchanged.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use image::{ImageDecoder, ImageReader};
use jpeg_decoder::{CodingProcess, PixelFormat};
use polars::prelude::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, PolarsContext, Result};
use crate::files::{key, temporary_name, Stamp};
use crate::frame;

/// Why a file could not be read as an image (its header, or its pixels). Displays as the
/// sentence the rejects table and the `facts_error` column show; the decoders' own words are
/// kept where they say more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum RejectReason {
    /// The file could not be read (the operating system's reason).
    Unreadable(String),
    /// The file has no bytes.
    Empty,
    /// The bytes are no image format the decoders know.
    NotAnImage,
    /// The header is damaged (the sentence names the format and the decoder's reason).
    BadHeader(String),
    /// The header claims no pixels.
    NoPixels {
        /// Width claimed.
        width: u64,
        /// Height claimed.
        height: u64,
    },
    /// The header claims more pixels than [`DecodeOptions::max_pixels`](crate::decode::DecodeOptions::max_pixels) (a decompression bomb?).
    TooLarge {
        /// Width claimed.
        width: u64,
        /// Height claimed.
        height: u64,
        /// The limit.
        limit: u64,
    },
    /// The file ends before its image data does.
    Truncated(String),
    /// The image data is damaged (the sentence names the format and the decoder's reason).
    Corrupt(String),
    /// A decoder or the resizer failed unexpectedly (a caught panic, an internal error).
    Failed(String),
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RejectReason::Unreadable(e) => write!(f, "cannot read: {e}"),
            RejectReason::Empty => f.write_str("empty file (0 bytes)"),
            RejectReason::NotAnImage => f.write_str("not an image (unrecognised format)"),
            RejectReason::NoPixels { width, height } => {
                write!(f, "claims {width} x {height} pixels")
            }
            RejectReason::TooLarge {
                width,
                height,
                limit,
            } => write!(
                f,
                "claims {width} x {height} pixels, over the limit of {limit} (a decompression bomb?)"
            ),
            RejectReason::BadHeader(text)
            | RejectReason::Truncated(text)
            | RejectReason::Corrupt(text)
            | RejectReason::Failed(text) => f.write_str(text),
        }
    }
}

/// What a file's header says, without decoding its pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageFacts {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Channels: 1 (grayscale), 2 (grayscale + alpha), 3 (RGB), 4 (RGBA or CMYK).
    pub channels: u8,
    /// PIL-style mode: `L`, `LA`, `RGB`, `RGBA`, `CMYK`, `I;16`, ...
    pub mode: String,
    /// Bits per channel.
    pub bit_depth: u8,
    /// `jpeg`, `png`, ...
    pub format: String,
    /// For JPEGs, whether the file is progressive (else baseline/sequential); null otherwise.
    pub progressive: Option<bool>,
}

/// Reads the facts of one file from its header.
pub fn read_facts(path: &Path) -> std::result::Result<ImageFacts, RejectReason> {
    let file = File::open(path).map_err(|e| RejectReason::Unreadable(e.to_string()))?;
    facts_from(BufReader::with_capacity(16 * 1024, file))
}

/// Reads the facts of an image held in memory (a file's bytes, as Spark's `binaryFile` gives
/// them), exactly as [`read_facts`] reads them from the file.
///
/// ```
/// let file = xray_lab::load::real_sample().join("NORMAL/NORMAL2-IM-1427-0001.jpeg");
/// let facts = xray_lab::facts::facts_of_bytes(&std::fs::read(file)?).map_err(|r| r.to_string())?;
/// assert_eq!((facts.mode.as_str(), facts.bit_depth), ("L", 8));
/// assert!(xray_lab::facts::facts_of_bytes(b"not an image").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn facts_of_bytes(bytes: &[u8]) -> std::result::Result<ImageFacts, RejectReason> {
    facts_from(std::io::Cursor::new(bytes))
}

fn facts_from<R: std::io::BufRead + std::io::Seek>(
    mut reader: R,
) -> std::result::Result<ImageFacts, RejectReason> {
    let magic = reader
        .fill_buf()
        .map_err(|e| RejectReason::Unreadable(e.to_string()))?
        .get(..3)
        .map(|m| m.to_vec())
        .unwrap_or_default();
    if magic.is_empty() {
        return Err(RejectReason::Empty);
    }
    if magic == [0xFF, 0xD8, 0xFF] {
        let mut decoder = jpeg_decoder::Decoder::new(reader);
        let info = jpeg_info(&mut decoder)?;
        let (channels, mode, depth) = match info.pixel_format {
            PixelFormat::L8 => (1, "L", 8),
            PixelFormat::L16 => (1, "I;16", 16),
            PixelFormat::RGB24 => (3, "RGB", 8),
            PixelFormat::CMYK32 => (4, "CMYK", 8),
        };
        return Ok(ImageFacts {
            width: info.width as u32,
            height: info.height as u32,
            channels,
            mode: mode.into(),
            bit_depth: depth,
            format: "jpeg".into(),
            progressive: Some(info.coding_process == CodingProcess::DctProgressive),
        });
    }
    let (format, decoder) = open_decoder(reader)?;
    let (width, height) = decoder.dimensions();
    let color = decoder.color_type();
    Ok(ImageFacts {
        width,
        height,
        channels: color.channel_count(),
        mode: mode_name(color).into(),
        bit_depth: (color.bits_per_pixel() / color.channel_count() as u16) as u8,
        format: format!("{format:?}").to_lowercase(),
        progressive: None,
    })
}

/// Reads a JPEG's header (jpeg-decoder): shared by [`read_facts`] and decoding.
pub(crate) fn jpeg_info<R: std::io::Read>(
    decoder: &mut jpeg_decoder::Decoder<R>,
) -> std::result::Result<jpeg_decoder::ImageInfo, RejectReason> {
    decoder
        .read_info()
        .map_err(|e| RejectReason::BadHeader(format!("bad JPEG header: {e}")))?;
    decoder
        .info()
        .ok_or_else(|| RejectReason::BadHeader("bad JPEG header".into()))
}

/// The format of an image that is not a JPEG (guessed from its first bytes) and a decoder for
/// it that has read its header: shared by [`read_facts`] and decoding.
pub(crate) fn open_decoder<'a, R: std::io::BufRead + std::io::Seek + 'a>(
    reader: R,
) -> std::result::Result<(image::ImageFormat, impl ImageDecoder + 'a), RejectReason> {
    let image = ImageReader::new(reader)
        .with_guessed_format()
        .map_err(|e| RejectReason::Unreadable(e.to_string()))?;
    let format = image.format().ok_or(RejectReason::NotAnImage)?;
    let decoder = image
        .into_decoder()
        .map_err(|e| RejectReason::BadHeader(format!("bad {format:?} header: {e}")))?;
    Ok((format, decoder))
}

fn mode_name(color: image::ColorType) -> &'static str {
    use image::ColorType::*;
    match color {
        L8 => "L",
        La8 => "LA",
        Rgb8 => "RGB",
        Rgba8 => "RGBA",
        L16 => "I;16",
        La16 => "LA;16",
        Rgb16 => "RGB;16",
        Rgba16 => "RGBA;16",
        Rgb32F => "RGB;F",
        Rgba32F => "RGBA;F",
        _ => "other",
    }
}

/// The image table with what each file's header says: `width`, `height`, `channels`, `mode`,
/// `bit_depth`, `format`, `progressive`, and `facts_error` (null unless the header could not be
/// read; such rows have null facts). Reads headers only, in parallel: about a second for the
/// full Kaggle dataset.
pub fn facts(images: &DataFrame) -> Result<DataFrame> {
    facts_in(images, &crate::env::cache_dir())
}

/// [`facts`], with the facts cache kept in `folder`.
pub fn facts_in(images: &DataFrame, folder: &Path) -> Result<DataFrame> {
    let paths = frame::strings(images, "path")?;
    let found: Vec<std::result::Result<ImageFacts, RejectReason>> = facts_cached(&paths, folder)
        .into_iter()
        .map(|(_, f)| f)
        .collect();
    let ok = |f: &dyn Fn(&ImageFacts) -> Option<u32>| -> Vec<Option<u32>> {
        found.iter().map(|r| r.as_ref().ok().and_then(f)).collect()
    };
    let text = |f: &dyn Fn(&ImageFacts) -> String| -> Vec<Option<String>> {
        found.iter().map(|r| r.as_ref().ok().map(f)).collect()
    };
    let mut out = frame::fresh(images);
    let columns = [
        Column::new("width".into(), ok(&|f| Some(f.width))),
        Column::new("height".into(), ok(&|f| Some(f.height))),
        Column::new("channels".into(), ok(&|f| Some(f.channels as u32))),
        Column::new("mode".into(), text(&|f| f.mode.clone())),
        Column::new("bit_depth".into(), ok(&|f| Some(f.bit_depth as u32))),
        Column::new("format".into(), text(&|f| f.format.clone())),
        Column::new(
            "progressive".into(),
            found
                .iter()
                .map(|r| r.as_ref().ok().and_then(|f| f.progressive))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "facts_error".into(),
            found
                .iter()
                .map(|r| r.as_ref().err().map(|e| e.to_string()))
                .collect::<Vec<_>>(),
        ),
    ];
    for column in columns {
        out.with_column(column).ctx("adding image facts")?;
    }
    Ok(frame::fresh(&out))
}

/// The header facts of each file, with its stamp (size and modification time; `None` when the
/// file cannot be read), in parallel. Reused from the file facts cache while a file keeps its
/// stamp, and the facts read anew are added to it: the report reads every header twice (facts
/// table, shortcut models) and the second read costs no file access.
pub(crate) fn facts_cached(
    paths: &[String],
    folder: &Path,
) -> Vec<(Option<Stamp>, std::result::Result<ImageFacts, RejectReason>)> {
    let mut cache = FileFacts::open(folder);
    let found: Vec<(String, Option<Stamp>, bool, _)> = paths
        .par_iter()
        .map(|p| {
            let key = key(p);
            let stamp = Stamp::of(Path::new(p));
            match stamp.as_ref().and_then(|s| cache.facts(&key, s)) {
                Some(known) => (key, stamp, false, known),
                None => (key, stamp, true, read_facts(Path::new(p))),
            }
        })
        .collect();
    for (key, stamp, fresh, facts) in &found {
        if let (Some(stamp), true) = (stamp, fresh) {
            cache.set_facts(key, stamp, facts.clone());
        }
    }
    cache.save();
    found
        .into_iter()
        .map(|(_, stamp, _, facts)| (stamp, facts))
        .collect()
}

/// Width and height per `group` (`subset`, `split` or `class`): `images`, and the `min`, `max`,
/// `mean` and `std` of each, as the report plotted per subset. Takes the table from [`facts`].
pub fn size_stats(facts: &DataFrame, group: &str) -> Result<DataFrame> {
    frame::require(facts, &[group, "width", "height"], "size statistics")?;
    let stat = |name: &str| {
        let c = || col(name).cast(DataType::Float64);
        [
            c().min().alias(format!("{name}_min")),
            c().max().alias(format!("{name}_max")),
            c().mean().alias(format!("{name}_mean")),
            c().std(1).alias(format!("{name}_std")),
        ]
    };
    let mut aggs = vec![len().cast(DataType::UInt32).alias("images")];
    aggs.extend(stat("width"));
    aggs.extend(stat("height"));
    let out = frame::fresh(facts)
        .lazy()
        .filter(col("width").is_not_null())
        .group_by([col(group)])
        .agg(aggs)
        .with_column(crate::subset::rank_expr(col(group)).alias("__rank"))
        .sort(["__rank", group], SortMultipleOptions::default())
        .drop(Selector::ByName {
            names: Arc::new(["__rank".into()]),
            strict: true,
        })
        .collect()
        .ctx("size statistics per group")?;
    Ok(frame::fresh(&out))
}

/// A one-number classifier: NORMAL on one side of a cut through a column of the facts (the
/// width, say), PNEUMONIA on the other. What a model that sees nothing but that number can do.
#[derive(Debug, Clone, PartialEq)]
pub struct Cut {
    /// The column cut through.
    pub column: String,
    /// The cut: values at or above it are on the upper side.
    pub at: f64,
    /// Whether NORMAL is the upper side.
    pub normal_above: bool,
    /// Its accuracy on the facts it was chosen on.
    pub accuracy: f64,
}

/// Values of `column` and whether each image is NORMAL, for rows whose value is known.
fn values_and_classes(facts: &DataFrame, column: &str) -> Result<(Vec<f64>, Vec<bool>)> {
    frame::require(facts, &["class", column], "a cut through one column")?;
    let values = frame::floats(facts, column)?;
    let classes = frame::strings(facts, "class")?;
    Ok(values
        .into_iter()
        .zip(classes)
        .filter(|(v, _)| v.is_finite())
        .map(|(v, c)| (v, c == "NORMAL"))
        .unzip())
}

/// The share of `(value, is NORMAL)` pairs a cut classifies right: NORMAL predicted when
/// `(value >= at) == normal_above`. NaN when there are none.
fn cut_accuracy(values: &[f64], normal: &[bool], at: f64, normal_above: bool) -> f64 {
    let right = values
        .iter()
        .zip(normal)
        .filter(|(v, n)| ((**v >= at) == normal_above) == **n)
        .count();
    right as f64 / values.len() as f64
}

/// The cut through `column` that classifies the most rows of `facts` right, trying every value
/// as the cut and both sides for NORMAL (the first best, from the smallest cut). Choose it on
/// the training subset and score it elsewhere with [`Cut::accuracy_on`].
///
/// ```
/// use xray_lab::prelude::*;
/// let facts = df!("class" => ["NORMAL", "NORMAL", "PNEUMONIA", "PNEUMONIA"],
///                 "width" => [1800u32, 1600, 1200, 900])?;
/// let cut = facts::best_cut(&facts, "width")?;
/// assert_eq!((cut.at, cut.normal_above, cut.accuracy), (1600.0, true, 1.0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn best_cut(facts: &DataFrame, column: &str) -> Result<Cut> {
    let (values, normal) = values_and_classes(facts, column)?;
    let mut cuts = values.clone();
    cuts.sort_by(f64::total_cmp);
    cuts.dedup();
    let mut best: Option<Cut> = None;
    for &at in &cuts {
        for normal_above in [true, false] {
            let accuracy = cut_accuracy(&values, &normal, at, normal_above);
            if best.as_ref().is_none_or(|b| accuracy > b.accuracy) {
                best = Some(Cut {
                    column: column.to_string(),
                    at,
                    normal_above,
                    accuracy,
                });
            }
        }
    }
    best.ok_or_else(|| {
        Error::InvalidInput(format!(
            "a cut through {column}: no row has a value (every header failed to read?)"
        ))
    })
}

impl Cut {
    /// Its accuracy on other facts (the test subset's, say); NaN when they have no row.
    pub fn accuracy_on(&self, facts: &DataFrame) -> Result<f64> {
        let (values, normal) = values_and_classes(facts, &self.column)?;
        Ok(cut_accuracy(&values, &normal, self.at, self.normal_above))
    }

    /// The cut as a one-row table.
    pub fn table(&self) -> Result<DataFrame> {
        df!(
            "column" => [self.column.as_str()],
            "cut" => [self.at],
            "NORMAL when" => [if self.normal_above { "at or above" } else { "below" }],
            "accuracy where chosen" => [self.accuracy],
        )
        .ctx("describing a cut")
    }

    /// evcxr's display hook: the one-row table.
    pub fn evcxr_display(&self) {
        match self.table() {
            Ok(df) => frame::Table::evcxr_display(&df),
            Err(e) => println!("{e}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The per-file facts cache.

/// What is known of one file at one stamp: its header facts and its content hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct FileRecord {
    bytes: u64,
    mtime_ns: i64,
    #[serde(default)]
    facts: Option<std::result::Result<ImageFacts, RejectReason>>,
    #[serde(default)]
    content_hash: Option<String>,
}

/// The format of the facts cache: a change makes old files be ignored.
const FACTS_FORMAT: u32 = 2;

/// The per-file facts cache (`files-v2.json` in the cache folder): header facts and content
/// hashes, reused while a file keeps its size and modification time. Small (about 200 bytes a
/// file), so JSON; written to a temporary name and renamed into place like the feature cache.
pub(crate) struct FileFacts {
    file: PathBuf,
    records: HashMap<String, FileRecord>,
    changed: bool,
}

impl FileFacts {
    /// Loads the cache kept in `folder`; a missing or unreadable one is empty (and replaced on
    /// save).
    pub(crate) fn open(folder: &Path) -> FileFacts {
        let file = folder.join(format!("files-v{FACTS_FORMAT}.json"));
        let records = std::fs::read(&file)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        FileFacts {
            file,
            records,
            changed: false,
        }
    }

    fn record(&self, key: &str, stamp: &Stamp) -> Option<&FileRecord> {
        self.records
            .get(key)
            .filter(|r| r.bytes == stamp.bytes && r.mtime_ns == stamp.mtime_ns)
    }

    fn record_mut(&mut self, key: &str, stamp: &Stamp) -> &mut FileRecord {
        self.changed = true;
        let fresh = FileRecord {
            bytes: stamp.bytes,
            mtime_ns: stamp.mtime_ns,
            facts: None,
            content_hash: None,
        };
        let record = self
            .records
            .entry(key.to_string())
            .or_insert_with(|| fresh.clone());
        if record.bytes != stamp.bytes || record.mtime_ns != stamp.mtime_ns {
            *record = fresh;
        }
        record
    }

    pub(crate) fn facts(
        &self,
        key: &str,
        stamp: &Stamp,
    ) -> Option<std::result::Result<ImageFacts, RejectReason>> {
        self.record(key, stamp)?.facts.clone()
    }

    pub(crate) fn hash(&self, key: &str, stamp: &Stamp) -> Option<String> {
        self.record(key, stamp)?.content_hash.clone()
    }

    pub(crate) fn set_facts(
        &mut self,
        key: &str,
        stamp: &Stamp,
        facts: std::result::Result<ImageFacts, RejectReason>,
    ) {
        self.record_mut(key, stamp).facts = Some(facts);
    }

    pub(crate) fn set_hash(&mut self, key: &str, stamp: &Stamp, hash: String) {
        self.record_mut(key, stamp).content_hash = Some(hash);
    }

    /// Writes the cache if anything changed, dropping files that no longer exist. A cache that
    /// cannot be written only costs time on the next run, so that is logged as a warning, not an
    /// error.
    pub(crate) fn save(mut self) {
        if !self.changed {
            return;
        }
        self.records.retain(|path, _| Path::new(path).exists());
        let result = (|| -> Result<()> {
            if let Some(dir) = self.file.parent() {
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            }
            let tmp = temporary_name(&self.file);
            let bytes = serde_json::to_vec(&self.records).map_err(|e| Error::Format {
                path: self.file.clone(),
                reason: format!("cannot encode the facts cache: {e}"),
            })?;
            std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
            std::fs::rename(&tmp, &self.file).map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                Error::io(&self.file, e)
            })
        })();
        if let Err(e) = result {
            log::warn!("the file facts cache was not updated: {e}");
        }
    }
}
