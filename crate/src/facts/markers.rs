//! The JPEG's markers walked by hand for the acquisition's traces (EXIF, ICC, JFIF density,
//! chroma subsampling, quality): the `image` and `jpeg-decoder` crates read none of these.

use serde::{Deserialize, Serialize};

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
pub(super) fn read_markers<R: std::io::Read + std::io::Seek>(
    reader: &mut R,
) -> std::io::Result<JpegMarkers> {
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
            0xDB => read_quantization_tables(&body, &mut tables),
            _ => {
                let sampling = frame_sampling(&body);
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

/// The quantization tables of a DQT segment, each in natural (row) order, into their slots.
fn read_quantization_tables(body: &[u8], tables: &mut [Option<[u16; 64]>; 4]) {
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

/// A frame header's components: precision, height, width, components, then per component its
/// id, sampling factors (h << 4 | v) and quantization table; returned as `(h, v, table)`.
fn frame_sampling(body: &[u8]) -> Vec<(u8, u8, usize)> {
    let components = *body.get(5).unwrap_or(&0) as usize;
    (0..components)
        .filter_map(|c| {
            let at = 6 + 3 * c;
            let hv = *body.get(at + 1)?;
            Some((hv >> 4, hv & 0x0F, *body.get(at + 2)? as usize & 3))
        })
        .collect()
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
