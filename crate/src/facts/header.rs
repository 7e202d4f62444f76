//! One file's header: its facts (size, mode, bit depth, progressive) read without decoding.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use image::{ImageDecoder, ImageReader};
use jpeg_decoder::{CodingProcess, PixelFormat};
use serde::{Deserialize, Serialize};

use super::markers::{read_markers, JpegMarkers};
use crate::reject::RejectReason;

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
