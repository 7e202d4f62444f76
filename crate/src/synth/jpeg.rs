//! Saving an image as a JPEG with the acquisition's traces in its header (EXIF, ICC, density).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::options::SynthOptions;
use super::phantom::render_pixels;
use super::plan::ImagePlan;

/// How one file is saved: the acquisition's traces in its header.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Saving {
    quality: u8,
    progressive: bool,
    exif: bool,
    icc: bool,
    dpi: Option<u16>,
}

impl SynthOptions {
    /// How `image` is saved: drawn from its own seed (a generator apart from the pixels'), so
    /// the pattern never moves a pixel's random draw.
    pub(super) fn saving(&self, image: &ImagePlan) -> Saving {
        if !self.acquisition {
            return Saving {
                quality: self.quality,
                progressive: false,
                exif: false,
                icc: false,
                dpi: None,
            };
        }
        let mut r = ChaCha8Rng::seed_from_u64(image.image_seed ^ 0x05a1_7ac0_u64);
        if image.pneumonia {
            let progressive = !image.rgb && r.random_bool(42.0 / 1176.0);
            Saving {
                quality: 75,
                progressive,
                exif: progressive,
                icc: false,
                dpi: None,
            }
        } else {
            let tagged = r.random_bool(411.0 / 419.0);
            // One archive per patient: their films share the quality.
            let quality = [88, 91, 95][(image.patient_seed % 3) as usize];
            Saving {
                quality,
                progressive: false,
                exif: tagged,
                icc: tagged,
                dpi: tagged.then_some(72),
            }
        }
    }
}

/// A minimal EXIF block (a big-endian TIFF header and an empty directory): what marks a file
/// as having EXIF, without claiming any camera data.
const EXIF: &[u8] = b"MM\0*\0\0\0\x08\0\0\0\0\0\0";

/// A minimal monochrome ICC profile: the 128-byte header (size, version 2.1, class `mntr`,
/// colour space `GRAY`, connection space `XYZ `, signature `acsp`) and an empty tag table.
fn icc_profile() -> Vec<u8> {
    let mut p = vec![0u8; 132];
    p[0..4].copy_from_slice(&132u32.to_be_bytes());
    p[8..12].copy_from_slice(&[2, 0x10, 0, 0]);
    p[12..16].copy_from_slice(b"mntr");
    p[16..20].copy_from_slice(b"GRAY");
    p[20..24].copy_from_slice(b"XYZ ");
    p[36..40].copy_from_slice(b"acsp");
    p
}

pub(super) fn render_jpeg(
    image: &ImagePlan,
    saving: &Saving,
) -> std::result::Result<Vec<u8>, String> {
    let (w, h) = (image.width as usize, image.height as usize);
    let pixels = render_pixels(image);
    let mut out = Vec::with_capacity(w * h / 4);
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, saving.quality);
    let failed = |e: jpeg_encoder::EncodingError| format!("JPEG encoding failed: {e}");
    encoder.set_progressive(saving.progressive);
    if image.rgb {
        encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    }
    if let Some(dpi) = saving.dpi {
        encoder.set_density(jpeg_encoder::PixelDensity::dpi(dpi));
    }
    if saving.exif {
        encoder.add_exif_metadata(EXIF).map_err(failed)?;
    }
    if saving.icc {
        encoder.add_icc_profile(&icc_profile()).map_err(failed)?;
    }
    let result = if image.rgb {
        let rgb: Vec<u8> = pixels.iter().flat_map(|&v| [v, v, v]).collect();
        encoder.encode(&rgb, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
    } else {
        encoder.encode(&pixels, w as u16, h as u16, jpeg_encoder::ColorType::Luma)
    };
    result.map_err(|e| format!("JPEG encoding failed: {e}"))?;
    Ok(out)
}
