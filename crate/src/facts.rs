//! Image facts: what each file's header says (size, mode, bit depth, progressive, and the
//! acquisition's traces: EXIF, ICC profile, JFIF density, chroma subsampling, JPEG quality),
//! read without decoding a pixel, and the per-file cache that keeps them (with content hashes)
//! while a file is unchanged.
//!
//! The acquisition facts matter on the Kaggle X-rays: measured on 1,595 of its files (shared
//! MEASUREMENTS.md), 411 of 419 NORMAL files carry EXIF and an ICC profile and no PNEUMONIA file
//! has an ICC profile, so a model can tell the class from the header alone (see
//! [`crate::shortcut`]).

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
use crate::files::{key, write_file, Stamp};
use crate::frame;

pub use crate::reject::RejectReason;

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
    /// What a JPEG's markers say about how it was made; `None` for other formats.
    #[serde(default)]
    pub jpeg: Option<JpegMarkers>,
}

/// The acquisition's traces in a JPEG's markers, read before its image data: which software
/// (and so which scanner or archive) wrote the file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JpegMarkers {
    /// An EXIF block (APP1 `Exif`) is present.
    pub exif: bool,
    /// An ICC colour profile (APP2 `ICC_PROFILE`) is present.
    pub icc: bool,
    /// The JFIF header's density (APP0 `JFIF`); `None` when the file has no JFIF header.
    pub jfif: Option<Density>,
    /// Chroma subsampling: `gray` (one component), `4:4:4`, `4:2:2`, `4:2:0`, `4:4:0`, `4:1:1`
    /// or `other`; `None` when no frame header was found.
    pub chroma: Option<String>,
    /// The quality (1-100) the luminance quantization table corresponds to on the IJG scale
    /// (libjpeg's, Pillow's, jpeg-encoder's); the nearest such quality for other tables
    /// ([`estimate_quality`]).
    /// `None` when the file has no quantization table before its image data.
    pub quality: Option<f64>,
}

/// A JFIF header's pixel density.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Density {
    /// 0: no unit (the numbers give only the pixels' aspect), 1: dots per inch, 2: per cm.
    pub units: u8,
    /// Horizontal density.
    pub x: u16,
    /// Vertical density.
    pub y: u16,
}

impl Density {
    /// The horizontal density in dots per inch; `None` without a unit.
    pub fn dpi(&self) -> Option<f64> {
        match self.units {
            1 => Some(self.x as f64),
            2 => Some(self.x as f64 * 2.54),
            _ => None,
        }
    }

    /// The unit as a word: `none`, `dpi`, `dpcm` (or `unknown`).
    pub fn unit_name(&self) -> &'static str {
        match self.units {
            0 => "none",
            1 => "dpi",
            2 => "dpcm",
            _ => "unknown",
        }
    }
}

/// The IJG (libjpeg) luminance quantization table at quality 50, in natural (row) order: the
/// table every IJG-scaled table is a multiple of (ITU T.81, Annex K).
const IJG_LUMINANCE: [u16; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113,
    92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/// Where the k-th value of a table stored in zigzag order goes in natural order (T.81 figure A.6).
const ZIGZAG: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// The IJG quality (1-100) a luminance table (natural order) was made with: the quality whose
/// table, as libjpeg scales the base table (`S = 5000 / q` below 50, `S = 200 - 2q` above,
/// each value `(base * S + 50) / 100` clamped to 1-255), is nearest to it. Exact for files
/// written by libjpeg, Pillow or jpeg-encoder; the nearest IJG quality for other encoders' tables.
pub fn estimate_quality(table: &[u16; 64]) -> f64 {
    let distance = |quality: u32| -> u32 {
        let scale = if quality < 50 {
            5000 / quality
        } else {
            200 - 2 * quality
        };
        table
            .iter()
            .zip(IJG_LUMINANCE)
            .map(|(&q, base)| {
                let ijg = ((base as u32 * scale + 50) / 100).clamp(1, 255);
                (q as u32).abs_diff(ijg)
            })
            .sum()
    };
    // The first best from quality 100 down: a table of ones (quality 100 and a few below it)
    // reads as 100.
    (1..=100u32)
        .rev()
        .min_by_key(|&q| distance(q))
        .unwrap_or(100) as f64
}

/// Walks a JPEG's markers from its start to its first scan and reads the acquisition facts.
///
/// Written by hand because no decoder we use exposes them: jpeg-decoder 0.3 gives EXIF and ICC
/// but not the JFIF density, the sampling factors or the quantization tables, and libjpeg's
/// would need a second decoder set-up per file. Segments are skipped by their lengths, so only
/// the header's bytes are read (a few kB; an EXIF thumbnail is seeked over).
fn read_markers<R: std::io::Read + std::io::Seek>(reader: &mut R) -> std::io::Result<JpegMarkers> {
    use std::io::{Read, SeekFrom};
    fn byte<R: Read>(r: &mut R) -> std::io::Result<u8> {
        let mut b = [0u8; 1];
        r.read_exact(&mut b)?;
        Ok(b[0])
    }
    reader.seek(SeekFrom::Start(2))?;
    let mut found = JpegMarkers::default();
    let mut tables: [Option<[u16; 64]>; 4] = [None; 4];
    let mut luma_table = 0usize;
    // A real header has a few dozen segments; the bound stops a crafted endless one.
    for _ in 0..512 {
        if byte(reader)? != 0xFF {
            continue;
        }
        let mut marker = byte(reader)?;
        while marker == 0xFF {
            marker = byte(reader)?;
        }
        match marker {
            0x00 | 0x01 | 0xD0..=0xD8 => continue,
            0xD9 | 0xDA => break,
            _ => {}
        }
        let length = u16::from_be_bytes([byte(reader)?, byte(reader)?]) as usize;
        let body_length = length.saturating_sub(2);
        // Only these segments are read; every other is skipped by its length.
        let wanted = matches!(marker, 0xE0 | 0xE1 | 0xE2 | 0xDB)
            || (matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC));
        if !wanted {
            reader.seek(SeekFrom::Current(body_length as i64))?;
            continue;
        }
        // APP segments: their signature is enough (EXIF can hold a 64 kB thumbnail).
        let read_length = if matches!(marker, 0xE1 | 0xE2) {
            body_length.min(14)
        } else {
            body_length
        };
        let mut body = vec![0u8; read_length];
        reader.read_exact(&mut body)?;
        reader.seek(SeekFrom::Current((body_length - read_length) as i64))?;
        match marker {
            0xE0 if body.len() >= 12 && body.starts_with(b"JFIF\0") => {
                found.jfif = Some(Density {
                    units: body[7],
                    x: u16::from_be_bytes([body[8], body[9]]),
                    y: u16::from_be_bytes([body[10], body[11]]),
                });
            }
            0xE1 if body.starts_with(b"Exif\0") => found.exif = true,
            0xE2 if body.starts_with(b"ICC_PROFILE\0") => found.icc = true,
            0xDB => {
                let mut at = 0;
                while at < body.len() {
                    let (precision, id) = (body[at] >> 4, (body[at] & 0x0F) as usize);
                    let size = if precision == 0 { 1 } else { 2 };
                    let Some(values) = body.get(at + 1..at + 1 + 64 * size) else {
                        break;
                    };
                    let mut table = [0u16; 64];
                    for (k, natural) in ZIGZAG.iter().enumerate() {
                        table[*natural] = if size == 1 {
                            values[k] as u16
                        } else {
                            u16::from_be_bytes([values[2 * k], values[2 * k + 1]])
                        };
                    }
                    if let Some(slot) = tables.get_mut(id) {
                        *slot = Some(table);
                    }
                    at += 1 + 64 * size;
                }
            }
            _ => {
                // A frame header: precision, height, width, components, then per component
                // its id, sampling factors (h << 4 | v) and quantization table.
                let components = *body.get(5).unwrap_or(&0) as usize;
                let sampling: Vec<(u8, u8, usize)> = (0..components)
                    .filter_map(|c| {
                        let at = 6 + 3 * c;
                        let hv = *body.get(at + 1)?;
                        Some((hv >> 4, hv & 0x0F, *body.get(at + 2)? as usize & 3))
                    })
                    .collect();
                if let Some(&(_, _, table)) = sampling.first() {
                    luma_table = table;
                }
                found.chroma = Some(chroma_name(&sampling).into());
            }
        }
    }
    found.quality = tables[luma_table].as_ref().map(estimate_quality);
    Ok(found)
}

/// The usual name of a frame's subsampling, from each component's `(h, v, table)`.
fn chroma_name(sampling: &[(u8, u8, usize)]) -> &'static str {
    match sampling {
        [_] => "gray",
        [(yh, yv, _), rest @ ..] if !rest.is_empty() => {
            let (ch, cv) = (rest[0].0.max(1), rest[0].1.max(1));
            if rest
                .iter()
                .any(|&(h, v, _)| (h.max(1), v.max(1)) != (ch, cv))
            {
                return "other";
            }
            match (yh / ch, yv / cv, yh % ch, yv % cv) {
                (1, 1, 0, 0) => "4:4:4",
                (2, 1, 0, 0) => "4:2:2",
                (2, 2, 0, 0) => "4:2:0",
                (1, 2, 0, 0) => "4:4:0",
                (4, 1, 0, 0) => "4:1:1",
                _ => "other",
            }
        }
        _ => "other",
    }
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
        let mut decoder = jpeg_decoder::Decoder::new(&mut reader);
        let info = jpeg_info(&mut decoder)?;
        // The header is valid (jpeg-decoder read it); a marker walk that fails after that
        // only leaves the acquisition facts unknown.
        let markers = read_markers(&mut reader).ok();
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
            jpeg: markers,
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
        jpeg: None,
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
/// `bit_depth`, `format`, `progressive`; for JPEGs the acquisition facts ([`JpegMarkers`]):
/// `exif`, `icc` (booleans), `jfif_units` (`none`, `dpi`, `dpcm`; null without a JFIF header),
/// `jfif_density` (horizontal), `chroma` (`gray`, `4:2:0`, ...), `quality` (IJG scale); and
/// `facts_error` (null unless the header could not be read; such rows have null facts). Reads
/// headers only, in parallel: about a second for the full Kaggle dataset.
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
    fn marks<T>(
        found: &[std::result::Result<ImageFacts, RejectReason>],
        f: impl Fn(&JpegMarkers) -> Option<T>,
    ) -> Vec<Option<T>> {
        found
            .iter()
            .map(|r| r.as_ref().ok().and_then(|x| x.jpeg.as_ref()).and_then(&f))
            .collect()
    }
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
        Column::new("exif".into(), marks(&found, |m| Some(m.exif))),
        Column::new("icc".into(), marks(&found, |m| Some(m.icc))),
        Column::new(
            "jfif_units".into(),
            marks(&found, |m| m.jfif.map(|d| d.unit_name())),
        ),
        Column::new(
            "jfif_density".into(),
            marks(&found, |m| m.jfif.map(|d| d.x as u32)),
        ),
        Column::new(
            "chroma".into(),
            found
                .iter()
                .map(|r| {
                    r.as_ref()
                        .ok()
                        .and_then(|f| f.jpeg.as_ref())
                        .and_then(|m| m.chroma.clone())
                })
                .collect::<Vec<_>>(),
        ),
        Column::new("quality".into(), marks(&found, |m| m.quality)),
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
    best.ok_or_else(|| Error::Empty {
        what: format!("a cut through {column}"),
        item: "row with a value (did every header fail to read?)",
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
        crate::frame::show(self.table())
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
const FACTS_FORMAT: u32 = 3;

/// The per-file facts cache (`files-v3.json` in the cache folder): header facts and content
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
        let result = serde_json::to_vec(&self.records)
            .map_err(|e| Error::Format {
                path: self.file.clone(),
                reason: format!("cannot encode the facts cache: {e}"),
            })
            .and_then(|bytes| write_file(&self.file, &bytes));
        if let Err(e) = result {
            log::warn!("the file facts cache was not updated: {e}");
        }
    }
}
