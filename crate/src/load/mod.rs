//! Load: find every image under a dataset root and describe it in a polars DataFrame.
//!
//! This is the report's `spark.read.format("binaryFile")` with `recursiveFileLookup` and
//! `pathGlobFilter="*.jpeg"`, done in one call and without reading a pixel:
//!
//! ```
//! use xray_lab::prelude::*;
//!
//! # let tmp = tempfile::tempdir()?;
//! # let root = tmp.path();
//! // A tiny dataset in the Kaggle layout (any folder-per-class tree works).
//! synth::SynthOptions::new().scale(0.01).seed(7).write(root)?;
//!
//! let dataset = load::scan(root)?;
//! assert_eq!(dataset.classes, ["NORMAL", "PNEUMONIA"]);
//! let counts = dataset.counts()?;           // split x class -> images
//! assert_eq!(counts.get_column_names(), ["split", "class", "images"]);
//! assert!(!dataset.skipped.is_empty());     // .DS_Store and friends, with their reasons
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The table has one row per image, sorted by path:
//!
//! | column    | type   | meaning |
//! |-----------|--------|---------|
//! | `path`    | str    | the file, as the root was given joined with its place under it |
//! | `split`   | str    | the first folder under the root (`train`, `test`, `val`); [`SINGLE_SPLIT`] when images sit directly in class folders |
//! | `class`   | str    | the image's parent folder (`NORMAL`, `PNEUMONIA`) |
//! | `label`   | u32    | the class's number: class names sorted, then numbered from 0 (torchvision's `ImageFolder` rule) |
//! | `bytes`   | u64    | file size |
//! | `patient` | str?   | the patient the Kaggle file name points to (see [`patient_id`]); null when the name does not fit |
//!
//! One file per idea: the walk (scan.rs), the dataset and its counts (dataset.rs), skipped
//! entries (skipped.rs), where images come from (origin.rs), and the patient rule (patient.rs).

mod dataset;
mod origin;
mod patient;
mod scan;
mod skipped;

pub use dataset::{counts, Dataset};
pub use origin::{real_sample, Origin};
pub use patient::patient_id;
pub use scan::{scan, ScanOptions, DEFAULT_EXTENSIONS, SINGLE_SPLIT};
pub use skipped::{SkipReason, Skipped};

#[cfg(test)]
mod tests {
    use super::patient::patient_id;
    use super::scan::is_hidden;

    #[test]
    fn patient_ids_from_kaggle_names() {
        let cases = [
            ("IM-0115-0001.jpeg", Some("IM-0115")),
            ("IM-0115-0002.JPEG", Some("IM-0115")),
            ("NORMAL2-IM-1427-0001.jpeg", Some("IM-1427")),
            ("person1946_bacteria_4874.jpeg", Some("person1946")),
            ("person1_virus_6.jpeg", Some("person1")),
            ("person22_virus_55.jpg", Some("person22")),
            ("personal_photo.jpeg", None),
            ("person_1.jpeg", None),
            ("XIM-0001-0001.jpeg", None),
            ("IM-.jpeg", None),
            ("IM-12ab.jpeg", None),
            ("photo.png", None),
            ("", None),
        ];
        for (name, want) in cases {
            assert_eq!(patient_id(name).as_deref(), want, "{name}");
        }
    }

    #[test]
    fn hidden_names() {
        assert!(is_hidden(".DS_Store"));
        assert!(is_hidden("._IM-0001-0001.jpeg"));
        assert!(is_hidden("__MACOSX"));
        assert!(!is_hidden("IM-0001-0001.jpeg"));
    }
}
