//! One file to a square grayscale image: format sniffing, the JPEG decoders (libjpeg-turbo through
//! `mozjpeg`, with all of this module's unsafe code, and jpeg-decoder), the pixel limit, the
//! resize.

use std::io::Cursor;
use std::path::Path;

use image::{GrayImage, ImageDecoder};
use jpeg_decoder::PixelFormat;

use super::intensity::histogram;
use super::options::DecodeOptions;
use crate::error::Result;
use crate::reject::RejectReason;

pub(crate) type Decoding<T> = std::result::Result<T, RejectReason>;

/// Decodes one file to a `size x size` grayscale image (0-255), as [`features`](fn@super::features) does for each row.
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
