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
//!
//! One file per idea: the settings and counts (options.rs), the plan of names, sizes and seeds
//! (plan.rs), the phantom's pixels (phantom.rs), the JPEG and its header (jpeg.rs), and the
//! writing (write.rs).

mod jpeg;
mod options;
mod phantom;
mod plan;
mod write;

pub use options::{SynthOptions, SynthSummary, DEFAULT_SEED, KAGGLE_COUNTS, MARKER};
pub use write::default_root;

pub(crate) use write::made_with;

#[cfg(test)]
mod tests {
    use super::options::*;
    use super::plan::{plan, ImagePlan};
    use super::write::read_marker;

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
