//! Pixel-intensity statistics of decoded images.

use serde::Serialize;

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

pub(super) fn histogram(pixels: &[u8]) -> [u32; 256] {
    let mut histogram = [0u32; 256];
    for &v in pixels {
        histogram[v as usize] += 1;
    }
    histogram
}
