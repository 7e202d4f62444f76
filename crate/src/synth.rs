//! Synth: a realistic synthetic chest X-ray dataset in the Kaggle layout, the embedded default.
//!
//! Everything in this project runs without a download: when no real data is given, the notebooks,
//! tests and benchmarks use a dataset generated here. It has the Kaggle dataset's shape:
//!
//! * the folder tree `train|test|val / NORMAL|PNEUMONIA / *.jpeg` with, at scale 1, the same
//!   counts (train 1,341 + 3,875, test 234 + 390, val 8 + 8);
//! * Kaggle-like names with several images per patient (`IM-0123-0001.jpeg`,
//!   `NORMAL2-IM-0456-0001.jpeg`, `person12_bacteria_57.jpeg`, `person13_virus_58.jpeg`);
//! * widths of about 400-2,900 px and heights of about 130-2,700 px, NORMAL images larger on
//!   average and PNEUMONIA images wider, as in the real data;
//! * the Kaggle files' acquisition pattern (measured on 1,595 of its files, shared
//!   MEASUREMENTS.md), on by default ([`SynthOptions::acquisition`]): NORMAL files carry EXIF,
//!   an ICC profile and a 72 dpi JFIF density and are saved at quality 88-95 (as 411 of the 419
//!   real NORMAL files carry EXIF and ICC); PNEUMONIA files carry neither, have a JFIF header
//!   without unit and are saved at quality 75, about 3.6% of them progressive with EXIF (42 of
//!   1,176 real ones) and about 7% RGB with 4:2:0 chroma (85 of 1,176); every other file is an
//!   8-bit grayscale baseline JPEG;
//! * a few non-image files (`.DS_Store`, a `notes.txt`) that a loader must skip.
//!
//! The pixels are a chest phantom: a body, two darker lung fields, a spine, ribs and film noise,
//! with each patient's anatomy, position and exposure varying. PNEUMONIA lungs carry hazy
//! opacities of varying size and strength; NORMAL lungs sometimes carry faint benign shadows. A
//! linear model on 150x150 pixels learns the difference clearly but not perfectly.
//!
//! The same seed gives the same bytes: every image is drawn from its own seeded generator, so
//! the parallel writer cannot change the result.
//!
//! ```
//! use xray_lab::synth::SynthOptions;
//! # let tmp = tempfile::tempdir()?;
//! let summary = SynthOptions::new().scale(0.01).seed(42).write(tmp.path())?;
//! assert_eq!(summary.images, 13 + 39 + 2 + 4 + 1 + 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The Kaggle dataset's image counts: (split, class, images).
pub const KAGGLE_COUNTS: [(&str, &str, usize); 6] = [
    ("train", "NORMAL", 1341),
    ("train", "PNEUMONIA", 3875),
    ("test", "NORMAL", 234),
    ("test", "PNEUMONIA", 390),
    ("val", "NORMAL", 8),
    ("val", "PNEUMONIA", 8),
];

/// The seed used when none is given.
pub const DEFAULT_SEED: u64 = 42;

/// The name of the file that marks a finished dataset (hidden, so scans list it as skipped).
pub const MARKER: &str = ".xray-lab-synth.json";

/// Bumped whenever the generator's output changes, so cached default datasets are regenerated.
const GENERATOR_VERSION: u32 = 2;

/// How to generate: scale (1 = the Kaggle counts), seed, and how the files are saved.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SynthOptions {
    scale: f64,
    seed: u64,
    quality: u8,
    #[serde(default)]
    acquisition: bool,
}

impl Default for SynthOptions {
    fn default() -> Self {
        SynthOptions {
            scale: 1.0,
            seed: DEFAULT_SEED,
            quality: 85,
            acquisition: true,
        }
    }
}

/// What [`SynthOptions::write`] wrote.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SynthSummary {
    /// The dataset root (holds train/test/val).
    pub root: PathBuf,
    /// The options used.
    pub options: SynthOptions,
    /// The generator version.
    pub version: u32,
    /// Images written.
    pub images: usize,
    /// Non-image files written (the ones a loader must skip).
    pub other_files: usize,
    /// Total bytes of the images.
    pub bytes: u64,
    /// Wall-clock seconds the generation took.
    pub seconds: f64,
}

impl SynthOptions {
    /// Scale 1 (the Kaggle counts), seed [`DEFAULT_SEED`], the Kaggle acquisition pattern.
    pub fn new() -> Self {
        Self::default()
    }

    /// Multiply every count by `scale` (rounded, at least one image per folder). Must be positive.
    pub fn scale(mut self, scale: f64) -> Self {
        self.scale = scale;
        self
    }

    /// The seed: the same seed gives the same bytes.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// JPEG quality, 1-100 (default 85), of every file when the acquisition pattern is off;
    /// with it on, the quality is the class's (see [`SynthOptions::acquisition`]).
    pub fn quality(mut self, quality: u8) -> Self {
        self.quality = quality.clamp(1, 100);
        self
    }

    /// Save the files with the Kaggle files' acquisition pattern (default: yes). NORMAL files
    /// get EXIF, an ICC profile, a 72 dpi JFIF density and a quality of 88, 91 or 95 (the
    /// patient's); 2% of them (8 of 419 real ones) get none of these. PNEUMONIA files get quality 75 and a
    /// JFIF header without unit; 3.6% of them are progressive with EXIF and 7% RGB with 4:2:0
    /// chroma. Off: every file is a plain JFIF at [`SynthOptions::quality`], 3% of each class
    /// RGB, none progressive; the header then tells nothing of the class (only the size does).
    pub fn acquisition(mut self, yes: bool) -> Self {
        self.acquisition = yes;
        self
    }

    /// The number of images per (split, class) these options give.
    pub fn counts(&self) -> Vec<(&'static str, &'static str, usize)> {
        KAGGLE_COUNTS
            .iter()
            .map(|&(split, class, n)| {
                (
                    split,
                    class,
                    ((n as f64 * self.scale).round() as usize).max(1),
                )
            })
            .collect()
    }

    /// Write the dataset under `root` (created if needed) and return what was written.
    ///
    /// Files already there are overwritten; the marker file [`MARKER`] is written last, so a
    /// dataset whose generation was interrupted is recognisable as unfinished.
    pub fn write(&self, root: impl AsRef<Path>) -> Result<SynthSummary> {
        let root = root.as_ref();
        if !(self.scale > 0.0 && self.scale.is_finite()) {
            return Err(Error::Parameter {
                name: "scale",
                value: self.scale.to_string(),
                expected: "a positive number".into(),
            });
        }
        let start = Instant::now();
        let plan = plan(self);
        for (split, class, _) in self.counts() {
            let dir = root.join(split).join(class);
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        let bytes = plan
            .par_iter()
            .map(|image| {
                let path = root.join(&image.rel_path);
                let jpeg =
                    render_jpeg(image, &self.saving(image)).map_err(|reason| Error::Image {
                        path: path.clone(),
                        reason,
                    })?;
                std::fs::write(&path, &jpeg).map_err(|e| Error::io(&path, e))?;
                Ok(jpeg.len() as u64)
            })
            .collect::<Result<Vec<u64>>>()?
            .into_iter()
            .sum();
        let others = other_files(root);
        for (path, content) in &others {
            std::fs::write(path, content).map_err(|e| Error::io(path, e))?;
        }
        let summary = SynthSummary {
            root: root.to_path_buf(),
            options: self.clone(),
            version: GENERATOR_VERSION,
            images: plan.len(),
            other_files: others.len(),
            bytes,
            seconds: start.elapsed().as_secs_f64(),
        };
        let marker = root.join(MARKER);
        let json = serde_json::to_vec_pretty(&summary).map_err(|e| Error::Format {
            path: marker.clone(),
            reason: format!("cannot encode the marker: {e}"),
        })?;
        std::fs::write(&marker, json).map_err(|e| Error::io(&marker, e))?;
        Ok(summary)
    }

    /// Generate into `root` unless a finished dataset with these options, made by this version
    /// of the generator, is already there ([`SynthOptions::is_written_in`]).
    pub fn ensure(&self, root: impl AsRef<Path>) -> Result<SynthSummary> {
        let root = root.as_ref();
        if let Some(summary) = read_marker(root) {
            if summary.options == *self && summary.version == GENERATOR_VERSION {
                return Ok(summary);
            }
        }
        self.write(root)
    }

    /// Whether `root` holds a finished dataset made with these options by this version of the
    /// generator: what [`SynthOptions::ensure`] keeps. A dataset of an older version (whose
    /// files differ) is not.
    pub fn is_written_in(&self, root: impl AsRef<Path>) -> bool {
        read_marker(root.as_ref())
            .is_some_and(|s| s.options == *self && s.version == GENERATOR_VERSION)
    }
}

/// The seed and scale the generator used under `root`, read from its marker file; `None` when
/// `root` was not made by [`SynthOptions::write`] (or its marker is unreadable).
pub(crate) fn made_with(root: &Path) -> Option<(u64, f64)> {
    read_marker(root).map(|m| (m.options.seed, m.options.scale))
}

fn read_marker(root: &Path) -> Option<SynthSummary> {
    let text = std::fs::read(root.join(MARKER)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Where the default synthetic dataset lives: `$XRAY_LAB_CACHE`, else `$XDG_CACHE_HOME/xray-lab`,
/// else `~/.cache/xray-lab`, else the system's temporary folder; then `synthetic-v<N>-seed42`.
pub fn default_root() -> PathBuf {
    let base = crate::cache::Caches::default().folder().to_path_buf();
    base.join(format!("synthetic-v{GENERATOR_VERSION}-seed{DEFAULT_SEED}"))
}

// ---------------------------------------------------------------------------------------------
// The plan: names, sizes and seeds, drawn in order from one generator so they are reproducible.

#[derive(Debug, Clone)]
struct ImagePlan {
    rel_path: PathBuf,
    width: u32,
    height: u32,
    rgb: bool,
    pneumonia: bool,
    patient_seed: u64,
    image_seed: u64,
}

fn plan(options: &SynthOptions) -> Vec<ImagePlan> {
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut images = Vec::new();
    // One patient numbering per naming scheme across the whole dataset, so ids never collide
    // between subsets: any leak a resplit makes is the resplit's own.
    let mut next_im = 1u32;
    let mut next_person = 1u32;
    let mut next_pneumonia_image = 1u32;
    for (split, class, count) in options.counts() {
        let pneumonia = class == "PNEUMONIA";
        let mut made = 0;
        while made < count {
            let patient_seed: u64 = rng.random();
            // Several images per patient, as in the Kaggle data (pneumonia patients more often).
            let per_patient = if pneumonia {
                [1, 1, 2, 2, 2, 3, 3, 4][rng.random_range(0..8)]
            } else {
                [1, 1, 1, 1, 1, 2, 2, 3][rng.random_range(0..8)]
            };
            let names: Vec<String> = if pneumonia {
                let person = next_person;
                next_person += 1;
                let kind = if rng.random_bool(0.65) {
                    "bacteria"
                } else {
                    "virus"
                };
                (0..per_patient)
                    .map(|_| {
                        let n = next_pneumonia_image;
                        next_pneumonia_image += 1;
                        format!("person{person}_{kind}_{n}.jpeg")
                    })
                    .collect()
            } else {
                let im = next_im;
                next_im += 1;
                if rng.random_bool(0.3) {
                    (1..=per_patient)
                        .map(|k| format!("NORMAL2-IM-{im:04}-{k:04}.jpeg"))
                        .collect()
                } else {
                    (1..=per_patient)
                        .map(|k| format!("IM-{im:04}-{k:04}.jpeg"))
                        .collect()
                }
            };
            for name in names.into_iter().take(count - made) {
                let (width, height) = draw_size(&mut rng, pneumonia);
                images.push(ImagePlan {
                    rel_path: Path::new(split).join(class).join(name),
                    width,
                    height,
                    // One draw whatever the share, so the rest of the plan (names, sizes,
                    // seeds) is the same with the acquisition pattern on or off.
                    rgb: rng.random_bool(match (options.acquisition, pneumonia) {
                        (false, _) => 0.03,
                        (true, true) => 85.0 / 1176.0,
                        (true, false) => 0.0,
                    }),
                    pneumonia,
                    patient_seed,
                    image_seed: rng.random(),
                });
                made += 1;
            }
        }
    }
    images
}

/// Image sizes like the Kaggle data's: NORMAL about 1,650 x 1,350 on average, PNEUMONIA smaller and
/// wider (about 1,200 x 850), with tails reaching about 400-2,900 px wide and 130-2,700 px high.
fn draw_size(rng: &mut ChaCha8Rng, pneumonia: bool) -> (u32, u32) {
    let (mean_w, sd_w, mean_aspect, sd_aspect) = if pneumonia {
        (1200.0, 330.0, 0.70, 0.11)
    } else {
        (1650.0, 300.0, 0.82, 0.08)
    };
    let width: f64 = Normal::new(mean_w, sd_w)
        .map(|d| d.sample(rng))
        .unwrap_or(mean_w);
    let aspect: f64 = Normal::new(mean_aspect, sd_aspect)
        .map(|d| d.sample(rng))
        .unwrap_or(mean_aspect);
    let width = width.clamp(384.0, 2916.0);
    // A rare crop: the real data has a few very flat images (heights down to ~130 px).
    let aspect = if rng.random_bool(0.004) {
        rng.random_range(0.25..0.4)
    } else {
        aspect.clamp(0.45, 1.1)
    };
    let height = (width * aspect).clamp(127.0, 2713.0);
    (width.round() as u32, height.round() as u32)
}

fn other_files(root: &Path) -> Vec<(PathBuf, &'static [u8])> {
    vec![
        (root.join(".DS_Store"), b"\x00\x00\x00\x01Bud1".as_slice()),
        (
            root.join("train").join("NORMAL").join(".DS_Store"),
            b"\x00\x00\x00\x01Bud1".as_slice(),
        ),
        (
            root.join("train").join("PNEUMONIA").join("notes.txt"),
            b"checked by hand: 12 images look rotated\n".as_slice(),
        ),
    ]
}

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

/// How one file is saved: the acquisition's traces in its header.
#[derive(Debug, Clone, PartialEq)]
struct Saving {
    quality: u8,
    progressive: bool,
    exif: bool,
    icc: bool,
    dpi: Option<u16>,
}

impl SynthOptions {
    /// How `image` is saved: drawn from its own seed (a generator apart from the pixels'), so
    /// the pattern never moves a pixel's random draw.
    fn saving(&self, image: &ImagePlan) -> Saving {
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

fn render_jpeg(image: &ImagePlan, saving: &Saving) -> std::result::Result<Vec<u8>, String> {
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

/// The image's 8-bit gray pixels, row-major.
fn render_pixels(image: &ImagePlan) -> Vec<u8> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_scale_and_never_vanish() {
        let full = SynthOptions::new().counts();
        assert_eq!(full.iter().map(|c| c.2).sum::<usize>(), 5856);
        let tiny = SynthOptions::new().scale(0.001).counts();
        assert!(tiny.iter().all(|c| c.2 >= 1));
    }

    #[test]
    fn the_marker_reads_back_exactly() {
        // 1.6194358869999999 is a time a CI run measured; serde_json's default float parser
        // read it back one ulp off, so `ensure` saw a different summary than `write` returned.
        // A scale that does not read back exactly would make `ensure` regenerate every time.
        let tmp = tempfile::tempdir().unwrap();
        let options = SynthOptions::new().scale(0.123_456_789_012_345_68).seed(7);
        let summary = SynthSummary {
            root: tmp.path().to_path_buf(),
            options: options.clone(),
            version: GENERATOR_VERSION,
            images: 3,
            other_files: 1,
            bytes: 1234,
            seconds: 1.619_435_886_999_999_9,
        };
        std::fs::write(
            tmp.path().join(MARKER),
            serde_json::to_vec_pretty(&summary).unwrap(),
        )
        .unwrap();
        let back = read_marker(tmp.path()).expect("the marker parses");
        assert_eq!(back.seconds.to_bits(), summary.seconds.to_bits());
        assert_eq!(back.options, options);
    }

    #[test]
    fn plan_is_deterministic_and_names_are_unique() {
        let a = plan(&SynthOptions::new().scale(0.2).seed(3));
        let b = plan(&SynthOptions::new().scale(0.2).seed(3));
        let c = plan(&SynthOptions::new().scale(0.2).seed(4));
        let key = |p: &Vec<ImagePlan>| {
            p.iter()
                .map(|i| (i.rel_path.clone(), i.width, i.height, i.image_seed))
                .collect::<Vec<_>>()
        };
        assert_eq!(key(&a), key(&b));
        assert_ne!(key(&a), key(&c));
        let mut names: Vec<_> = a
            .iter()
            .map(|i| i.rel_path.file_name().unwrap().to_owned())
            .collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), a.len(), "file names repeat");
    }
}
