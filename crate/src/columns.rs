//! The names of the image table's columns, in one place: the crate, the command and the Python
//! package (which reads them from its native module) spell a column the same way.
//!
//! [`load::scan`](crate::load::scan) writes [`PATH`], [`SPLIT`], [`CLASS`], [`LABEL`],
//! [`BYTES`], [`PATIENT`] ([`IMAGES`], in that order); a resplit adds [`SUBSET`]; a leak check
//! reads [`CONTENT_HASH`] when a table has it. Decoding writes [`FEATURES`] and the header's and
//! pixels' facts ([`HEADER`], [`INTENSITY`], [`ERROR`]).
//!
//! ```
//! use xray_lab::prelude::*;
//! # let tmp = tempfile::tempdir()?;
//! # synth::SynthOptions::new().scale(0.01).write(tmp.path())?;
//! let dataset = load::scan(tmp.path())?;
//! assert_eq!(dataset.images.get_column_names(), columns::IMAGES);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

/// The image file, as the root was given joined with its place under the root.
pub const PATH: &str = "path";
/// The first folder under the root (`train`, `test`, `val`): where the download put the image.
pub const SPLIT: &str = "split";
/// The image's parent folder: its class name (`NORMAL`, `PNEUMONIA`).
pub const CLASS: &str = "class";
/// The class's number (class names sorted, then numbered from 0).
pub const LABEL: &str = "label";
/// The file's size in bytes.
pub const BYTES: &str = "bytes";
/// The patient the file name points to (null when the name does not fit the rule).
pub const PATIENT: &str = "patient";
/// The subset a resplit put the image in (`train`, `validation`, `test`).
pub const SUBSET: &str = "subset";
/// A 128-bit hash of the file's bytes, to find the same image under two names.
pub const CONTENT_HASH: &str = "content_hash";
/// The decoded pixels, `size x size` values in [0, 1], row-major.
pub const FEATURES: &str = "features";
/// Why a file gave no features (null when it did).
pub const ERROR: &str = "error";

/// The columns of a scanned image table, in order.
pub const IMAGES: [&str; 6] = [PATH, SPLIT, CLASS, LABEL, BYTES, PATIENT];

/// The header's facts decoding writes after [`FEATURES`], in order, with their Arrow types.
pub const HEADER: [(&str, &str); 6] = [
    ("width", "int32"),
    ("height", "int32"),
    ("mode", "string"),
    ("bit_depth", "int32"),
    ("format", "string"),
    ("progressive", "bool"),
];

/// The decoded pixels' intensities (0-255 scale) decoding writes after [`HEADER`], in order,
/// with their Arrow types; then comes [`ERROR`] (a string).
pub const INTENSITY: [(&str, &str); 4] = [
    ("mean", "float64"),
    ("std", "float64"),
    ("min", "int32"),
    ("max", "int32"),
];
