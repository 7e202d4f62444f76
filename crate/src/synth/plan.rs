//! The plan: names, sizes and seeds, drawn in order from one generator so they are reproducible.

use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use super::options::SynthOptions;

#[derive(Debug, Clone)]
pub(super) struct ImagePlan {
    pub(super) rel_path: PathBuf,
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) rgb: bool,
    pub(super) pneumonia: bool,
    pub(super) patient_seed: u64,
    pub(super) image_seed: u64,
}

pub(super) fn plan(options: &SynthOptions) -> Vec<ImagePlan> {
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
pub(super) fn draw_size(rng: &mut ChaCha8Rng, pneumonia: bool) -> (u32, u32) {
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

pub(super) fn other_files(root: &Path) -> Vec<(PathBuf, &'static [u8])> {
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
