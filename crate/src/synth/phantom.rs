//! The phantom's pixels: a patient's anatomy, an image's exposure and position, film noise.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use super::plan::ImagePlan;

// ---------------------------------------------------------------------------------------------
// The phantom. Hand-written: no crate draws X-ray-like test images. The shapes are smooth, so
// they are drawn on a coarse grid (at most 128 px wide) and upsampled bilinearly to the full size,
// where per-pixel film noise is added; that keeps full-scale generation well under a minute.

/// One patient's anatomy (shared by their images) and one image's exposure and position.
struct Scene {
    body: (f64, f64, f64, f64), // centre x, centre y, radius x, radius y (image fractions)
    lungs: [(f64, f64, f64, f64); 2],
    spine_width: f64,
    rib_phase: f64,
    rib_spacing: f64,
    gain: f64,
    offset: f64,
    gamma: f64,
    noise: f64,
    /// Gaussian bumps added inside the lungs: (x, y, sigma, amplitude).
    blobs: Vec<(f64, f64, f64, f64)>,
    /// A diffuse haze over one lung (index, amplitude).
    haze: (usize, f64),
}

fn scene(image: &ImagePlan) -> Scene {
    let mut p = ChaCha8Rng::seed_from_u64(image.patient_seed);
    let mut r = ChaCha8Rng::seed_from_u64(image.image_seed);
    let n =
        |rng: &mut ChaCha8Rng, sd: f64| Normal::new(0.0, sd).map(|d| d.sample(rng)).unwrap_or(0.0);

    // Anatomy: the patient's, with a little positioning jitter per image.
    let (dx, dy) = (
        n(&mut p, 0.02) + n(&mut r, 0.015),
        n(&mut p, 0.02) + n(&mut r, 0.015),
    );
    let size = 1.0 + n(&mut p, 0.06);
    let body = (
        0.5 + dx,
        0.56 + dy,
        0.40 * size * (1.0 + n(&mut p, 0.05)),
        0.55 * size,
    );
    let lung_w = 0.135 * size * (1.0 + n(&mut p, 0.07));
    let lung_h = 0.27 * size * (1.0 + n(&mut p, 0.07));
    let gap = 0.165 * size * (1.0 + n(&mut p, 0.05));
    let lungs = [
        (0.5 + dx - gap, 0.45 + dy, lung_w, lung_h),
        (
            0.5 + dx + gap,
            0.45 + dy,
            lung_w * (1.0 + n(&mut p, 0.04)),
            lung_h * (1.0 + n(&mut p, 0.04)),
        ),
    ];

    // The finding: PNEUMONIA lungs carry opacities (the patient's, so their images agree); NORMAL
    // lungs sometimes carry faint benign shadows, so the classes overlap.
    let mut blobs = Vec::new();
    let (count, amp_range) = if image.pneumonia {
        (p.random_range(1..=4), 0.03..0.17)
    } else {
        (
            if p.random_bool(0.45) {
                p.random_range(1..=2)
            } else {
                0
            },
            0.02..0.09,
        )
    };
    for _ in 0..count {
        let lung = lungs[p.random_range(0..2)];
        let (ux, uy) = (p.random_range(-0.8..0.8), p.random_range(-0.8..0.8));
        blobs.push((
            lung.0 + ux * lung.2,
            lung.1 + uy * lung.3,
            p.random_range(0.03..0.09),
            p.random_range(amp_range.clone()),
        ));
    }
    let haze = if image.pneumonia {
        (p.random_range(0..2), p.random_range(0.0..0.08))
    } else {
        (0, 0.0)
    };

    Scene {
        body,
        lungs,
        spine_width: 0.035 * size,
        rib_phase: p.random_range(0.0..1.0),
        rib_spacing: 0.075 * size,
        // Exposure: the image's, as a different machine or day would give.
        gain: 1.0 + n(&mut r, 0.12),
        offset: n(&mut r, 0.05),
        gamma: (1.0 + n(&mut r, 0.12)).clamp(0.7, 1.4),
        noise: r.random_range(0.01..0.025),
        blobs,
        haze,
    }
}

/// A smooth step from 1 inside an ellipse to 0 outside, `soft` wide at the edge.
fn ellipse(x: f64, y: f64, (cx, cy, rx, ry): (f64, f64, f64, f64), soft: f64) -> f64 {
    let d = (((x - cx) / rx).powi(2) + ((y - cy) / ry).powi(2)).sqrt();
    ((1.0 + soft - d) / (2.0 * soft)).clamp(0.0, 1.0)
}

fn intensity(s: &Scene, x: f64, y: f64, aspect: f64) -> f64 {
    let body = ellipse(x, y, s.body, 0.06);
    let mut v = 0.07 + 0.55 * body;
    // Spine and mediastinum: a bright band down the middle of the body.
    let spine = (-((x - s.body.0) / s.spine_width).powi(2)).exp();
    v += 0.18 * spine * body;
    let lung = ellipse(x, y, s.lungs[0], 0.25).max(ellipse(x, y, s.lungs[1], 0.25));
    // Ribs: bright arcs across the lungs.
    let arc = (y + 0.9 * (x - s.body.0).powi(2) / aspect) / s.rib_spacing + s.rib_phase;
    let rib = (std::f64::consts::PI * arc).sin().abs().powi(6);
    let mut finding = 0.0;
    for &(bx, by, sigma, amp) in &s.blobs {
        let d2 = ((x - bx) * aspect).powi(2) + (y - by).powi(2);
        finding += amp * (-d2 / (2.0 * sigma * sigma)).exp();
    }
    finding += s.haze.1 * ellipse(x, y, s.lungs[s.haze.0], 0.3);
    v += lung * (-0.36 + 0.10 * rib + finding);
    v
}

/// The image's 8-bit gray pixels, row-major.
pub(super) fn render_pixels(image: &ImagePlan) -> Vec<u8> {
    let s = scene(image);
    let (w, h) = (image.width as usize, image.height as usize);
    let aspect = w as f64 / h as f64;
    let lw = w.min(128);
    let lh = ((h * lw) / w).max(2);
    let mut coarse = vec![0f32; lw * lh];
    for j in 0..lh {
        let y = (j as f64 + 0.5) / lh as f64;
        for i in 0..lw {
            let x = (i as f64 + 0.5) / lw as f64;
            let v = (intensity(&s, x, y, aspect) * s.gain + s.offset)
                .clamp(0.0, 1.0)
                .powf(s.gamma);
            coarse[j * lw + i] = (v * 255.0) as f32;
        }
    }

    // Bilinear upsampling: horizontal taps once per image, vertical blend once per row.
    let taps: Vec<(usize, f32)> = (0..w)
        .map(|x| {
            let f = ((x as f32 + 0.5) * lw as f32 / w as f32 - 0.5).clamp(0.0, (lw - 1) as f32);
            let i = (f as usize).min(lw.saturating_sub(2));
            (i, f - i as f32)
        })
        .collect();
    // Film noise: a table of near-Gaussian values (two uniform bytes summed), read from a random
    // offset on each row; much cheaper than a generator call per pixel, and it never repeats
    // within a row (the table is longer than any image is wide).
    const TABLE: usize = 4096;
    let mut noise_rng = ChaCha8Rng::seed_from_u64(image.image_seed ^ 0x9e37_79b9_7f4a_7c15);
    let noise_amp = (s.noise * 255.0) as f32;
    let table: Vec<f32> = (0..TABLE)
        .map(|_| {
            let (a, b): (u8, u8) = (noise_rng.random(), noise_rng.random());
            (a as f32 + b as f32 - 255.0) / 255.0 * noise_amp
        })
        .collect();
    let mut pixels = vec![0u8; w * h];
    let mut row = vec![0f32; lw];
    for (y, out) in pixels.chunks_exact_mut(w).enumerate() {
        let f = ((y as f32 + 0.5) * lh as f32 / h as f32 - 0.5).clamp(0.0, (lh - 1) as f32);
        let j = (f as usize).min(lh - 2);
        let t = f - j as f32;
        let (a, b) = (
            &coarse[j * lw..(j + 1) * lw],
            &coarse[(j + 1) * lw..(j + 2) * lw],
        );
        for ((r, &a), &b) in row.iter_mut().zip(a).zip(b) {
            *r = a + (b - a) * t;
        }
        let start = noise_rng.random_range(0..TABLE);
        for (x, (o, &(i, t))) in out.iter_mut().zip(&taps).enumerate() {
            let n = table[(start + x) & (TABLE - 1)];
            let v = row[i] + (row[i + 1] - row[i]) * t + n;
            *o = v.clamp(0.0, 255.0) as u8;
        }
    }
    pixels
}
