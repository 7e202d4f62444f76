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

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Component, Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;

use crate::columns;
use crate::error::{Error, PolarsContext, Result};
use crate::frame;

/// The split name used when images sit directly in class folders (`root/CLASS/image.jpeg`).
pub const SINGLE_SPLIT: &str = "all";

/// The extensions accepted by default (compared without regard to case).
pub const DEFAULT_EXTENSIONS: [&str; 3] = ["jpeg", "jpg", "png"];

/// Why a file or folder under the root is not in the image table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SkipReason {
    /// A hidden file or folder (`.DS_Store`, `._image.jpeg`, `__MACOSX/`): never an image of the dataset.
    Hidden,
    /// The extension is not one of the accepted ones.
    NotAnImage {
        /// The file's extension, lower-cased ("" when it has none).
        extension: String,
    },
    /// An image directly under the root, so it has no class folder.
    NoClassFolder,
    /// The entry could not be read (permissions, a broken link, a vanished file).
    Unreadable {
        /// The operating system's reason.
        reason: String,
    },
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::Hidden => write!(f, "hidden file or folder"),
            SkipReason::NotAnImage { extension } if extension.is_empty() => {
                write!(f, "no file extension, not an image")
            }
            SkipReason::NotAnImage { extension } => {
                write!(
                    f,
                    "extension .{extension} is not an accepted image extension"
                )
            }
            SkipReason::NoClassFolder => {
                write!(f, "directly under the root, not inside a class folder")
            }
            SkipReason::Unreadable { reason } => write!(f, "unreadable: {reason}"),
        }
    }
}

/// A file or folder that the scan saw and left out, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The entry.
    pub path: PathBuf,
    /// Why it is not in the image table.
    pub reason: SkipReason,
}

/// How to scan: which extensions count as images, and whether to follow symbolic links.
///
/// ```
/// # use xray_lab::load::ScanOptions;
/// let options = ScanOptions::new().extensions(["jpeg"]); // the report's pathGlobFilter="*.jpeg"
/// ```
#[derive(Debug, Clone)]
pub struct ScanOptions {
    extensions: Vec<String>,
    follow_links: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            extensions: DEFAULT_EXTENSIONS.iter().map(|e| e.to_string()).collect(),
            follow_links: true,
        }
    }
}

impl ScanOptions {
    /// The defaults: extensions jpeg, jpg and png (any case), symbolic links followed.
    pub fn new() -> Self {
        Self::default()
    }

    /// Accept these extensions (without the dot, any case) instead of the defaults.
    pub fn extensions<S: AsRef<str>>(mut self, extensions: impl IntoIterator<Item = S>) -> Self {
        self.extensions = extensions
            .into_iter()
            .map(|e| e.as_ref().trim_start_matches('.').to_ascii_lowercase())
            .collect();
        self
    }

    /// Follow symbolic links to files and folders (default: yes).
    pub fn follow_links(mut self, follow: bool) -> Self {
        self.follow_links = follow;
        self
    }

    /// Scan `root`. See [`scan`].
    pub fn scan(&self, root: impl AsRef<Path>) -> Result<Dataset> {
        scan_with(root.as_ref(), self)
    }
}

/// A scanned dataset: the image table, the class names and what was skipped.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The folder that was scanned.
    pub root: PathBuf,
    /// One row per image, sorted by path (columns in the [module docs](self)).
    pub images: DataFrame,
    /// The class names, sorted; a class's label is its index here.
    pub classes: Vec<String>,
    /// Every entry that is not in `images`, with the reason.
    pub skipped: Vec<Skipped>,
    /// Where the images come from: generated phantoms, the real sample, or a folder of yours.
    pub origin: Origin,
}

/// Where a dataset's images come from. A notebook shows it where it first loads the data, so
/// nobody mistakes the synthetic phantoms for chest films.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// Made by [`synth`](crate::synth) (its marker file says so): drawn phantoms in the Kaggle
    /// layout, with Kaggle's counts and class differences, not X-rays.
    Synthetic {
        /// The generator's seed.
        seed: u64,
        /// The generator's scale (1: Kaggle's 5,856 images).
        scale: f64,
    },
    /// The 16 real X-rays that ship with xray-lab ([`real_sample`]).
    RealSample,
    /// Any other folder: the user's own images (the Kaggle download, or another dataset).
    Folder,
}

impl Origin {
    /// Reads where the images under `root` come from.
    pub fn of(root: &Path) -> Origin {
        if let Some((seed, scale)) = crate::synth::made_with(root) {
            return Origin::Synthetic { seed, scale };
        }
        let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if same(root, &real_sample()) {
            Origin::RealSample
        } else {
            Origin::Folder
        }
    }

    /// True for the generated phantoms.
    pub fn is_synthetic(&self) -> bool {
        matches!(self, Origin::Synthetic { .. })
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Synthetic { seed, scale } => write!(
                f,
                "SYNTHETIC data (xray-lab synth, seed {seed}, scale {scale}): drawn phantoms, not \
                 X-rays. Their counts, sizes, file sizes and class differences imitate Kaggle's, \
                 so every table and figure works, but nothing here is a fact about real chest \
                 films. Set XRAY_LAB_DATA to the Kaggle download for those."
            ),
            Origin::RealSample => write!(
                f,
                "REAL X-rays: the 16-image sample that ships with xray-lab (Kermany, Zhang, \
                 Goldbaum 2018, CC BY 4.0), 8 NORMAL and 8 PNEUMONIA: enough to look at, too few \
                 to learn from."
            ),
            Origin::Folder => write!(f, "your images (XRAY_LAB_DATA)"),
        }
    }
}

/// The folder of the 16 real chest X-rays (8 NORMAL, 8 PNEUMONIA, from the Kaggle dataset's
/// validation split, CC BY 4.0) that ship with the crate as its test fixtures: one folder per
/// class, no split folders. Notebook 01 opens with them whatever `XRAY_LAB_DATA` says.
///
/// ```
/// let dataset = xray_lab::load::scan(xray_lab::load::real_sample())?;
/// assert_eq!(dataset.len(), 16);
/// assert_eq!(dataset.origin, xray_lab::load::Origin::RealSample);
/// # Ok::<(), xray_lab::Error>(())
/// ```
pub fn real_sample() -> PathBuf {
    const SAMPLE: &str = "tests/fixtures/real-sample";
    let built_in = Path::new(env!("CARGO_MANIFEST_DIR")).join(SAMPLE);
    if built_in.is_dir() {
        return built_in;
    }
    // The checkout was moved (or another checkout built this library: cargo reuses a build
    // across checkouts that share a target folder, with the first one's path compiled in).
    // Look for the sample above the working folder, where a notebook or a test runs.
    let here = std::env::current_dir().unwrap_or_default();
    here.ancestors()
        .flat_map(|folder| [folder.join("crate").join(SAMPLE), folder.join(SAMPLE)])
        .find(|candidate| candidate.is_dir())
        .unwrap_or(built_in)
}

/// Scan `root` with the default [`ScanOptions`].
///
/// Errors: the root is missing or not a folder ([`Error::MissingRoot`], [`Error::RootNotFolder`]),
/// or it holds no accepted image ([`Error::EmptyDataset`]). Anything else odd under the root
/// (hidden files, other extensions, unreadable entries) is listed in [`Dataset::skipped`].
pub fn scan(root: impl AsRef<Path>) -> Result<Dataset> {
    ScanOptions::default().scan(root)
}

struct Found {
    path: PathBuf,
    split: String,
    class: String,
    bytes: u64,
    patient: Option<String>,
}

fn scan_with(root: &Path, options: &ScanOptions) -> Result<Dataset> {
    check_root(root)?;
    let (mut found, mut skipped) = walk(root, options);
    if found.is_empty() {
        return Err(Error::EmptyDataset {
            root: root.to_path_buf(),
            extensions: options.extensions.join(", "),
            skipped: skipped.len(),
        });
    }
    // walkdir sorted each folder by name; a full sort by path makes the order independent of that.
    found.sort_by(|a, b| a.path.cmp(&b.path));
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    skipped.dedup();
    let (images, classes) = image_table(&found)?;
    Ok(Dataset {
        root: root.to_path_buf(),
        images,
        classes,
        skipped,
        origin: Origin::of(root),
    })
}

/// The root must be an existing folder.
fn check_root(root: &Path) -> Result<()> {
    let meta = std::fs::metadata(root).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::MissingRoot(root.to_path_buf()),
        _ => Error::io(root, e),
    })?;
    if !meta.is_dir() {
        return Err(Error::RootNotFolder(root.to_path_buf()));
    }
    Ok(())
}

/// Every entry under the root, each either an image found or an entry skipped with its reason.
fn walk(root: &Path, options: &ScanOptions) -> (Vec<Found>, Vec<Skipped>) {
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    let mut walker = walkdir::WalkDir::new(root)
        .follow_links(options.follow_links)
        .sort_by_file_name()
        .min_depth(1)
        .into_iter();
    while let Some(entry) = walker.next() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                let path = err
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| root.to_path_buf());
                skipped.push(Skipped {
                    path,
                    reason: unreadable(&err),
                });
                continue;
            }
        };
        if entry.file_type().is_dir() {
            // A hidden folder (__MACOSX/, .git/) is reported once and not entered.
            if is_hidden(&entry.file_name().to_string_lossy()) {
                skipped.push(Skipped {
                    path: entry.path().to_path_buf(),
                    reason: SkipReason::Hidden,
                });
                walker.skip_current_dir();
            }
            continue;
        }
        match classify(root, &entry, options) {
            Ok(image) => found.push(image),
            Err(reason) => skipped.push(Skipped {
                path: entry.path().to_path_buf(),
                reason,
            }),
        }
    }
    (found, skipped)
}

fn unreadable(err: &walkdir::Error) -> SkipReason {
    let reason = err
        .io_error()
        .map(|e| e.to_string())
        .unwrap_or_else(|| err.to_string());
    SkipReason::Unreadable { reason }
}

/// A file under the root: an image with its split and class (from its folders), or the reason
/// it is not one.
fn classify(
    root: &Path,
    entry: &walkdir::DirEntry,
    options: &ScanOptions,
) -> std::result::Result<Found, SkipReason> {
    let path = entry.path();
    let name = entry.file_name().to_string_lossy().into_owned();
    if is_hidden(&name) {
        return Err(SkipReason::Hidden);
    }
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if !options.extensions.contains(&extension) {
        return Err(SkipReason::NotAnImage { extension });
    }
    let folders: Vec<String> = path
        .strip_prefix(root)
        .unwrap_or(path)
        .parent()
        .map(|p| {
            p.components()
                .filter_map(|c| match c {
                    Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let (split, class) = match folders.as_slice() {
        [] => return Err(SkipReason::NoClassFolder),
        [class] => (SINGLE_SPLIT.to_string(), class.clone()),
        [split, .., class] => (split.clone(), class.clone()),
    };
    let bytes = entry.metadata().map_err(|err| unreadable(&err))?.len();
    Ok(Found {
        patient: patient_id(&name),
        path: path.to_path_buf(),
        split,
        class,
        bytes,
    })
}

/// The image table of the images found (in their order), and the classes, sorted.
fn image_table(found: &[Found]) -> Result<(DataFrame, Vec<String>)> {
    let classes: Vec<String> = found
        .iter()
        .map(|f| f.class.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let label = |class: &str| classes.iter().position(|c| c == class).unwrap_or(0) as u32;
    let images = df!(
        columns::PATH => found.iter().map(|f| f.path.to_string_lossy().into_owned()).collect::<Vec<_>>(),
        columns::SPLIT => found.iter().map(|f| f.split.as_str()).collect::<Vec<_>>(),
        columns::CLASS => found.iter().map(|f| f.class.as_str()).collect::<Vec<_>>(),
        columns::LABEL => found.iter().map(|f| label(&f.class)).collect::<Vec<_>>(),
        columns::BYTES => found.iter().map(|f| f.bytes).collect::<Vec<_>>(),
        columns::PATIENT => found.iter().map(|f| f.patient.clone()).collect::<Vec<_>>(),
    )
    .ctx("building the image table")?;
    Ok((frame::fresh(&images), classes))
}

fn is_hidden(name: &str) -> bool {
    name.starts_with('.') || name == "__MACOSX" || name.eq_ignore_ascii_case("thumbs.db")
}

impl Dataset {
    /// Images per split and class, as a DataFrame with columns `split`, `class`, `images`,
    /// splits in the report's order (train, test, val, then any other alphabetically).
    pub fn counts(&self) -> Result<DataFrame> {
        counts(&self.images, columns::SPLIT)
    }

    /// The skipped entries as a DataFrame with columns `path` and `reason`.
    pub fn skipped_frame(&self) -> Result<DataFrame> {
        df!(
            columns::PATH => self.skipped.iter().map(|s| s.path.to_string_lossy().into_owned()).collect::<Vec<_>>(),
            "reason" => self.skipped.iter().map(|s| s.reason.to_string()).collect::<Vec<_>>(),
        )
        .ctx("building the skipped table")
    }

    /// Where the images come from, how many there are, per split and class: what a notebook
    /// shows where it first loads the data (and what `dataset` at the end of a cell shows).
    pub fn overview(&self) -> Result<DataFrame> {
        let classes = frame::strings(&self.images, columns::CLASS)?;
        let per_class: Vec<String> = self
            .classes
            .iter()
            .map(|class| format!("{class} {}", classes.iter().filter(|c| *c == class).count()))
            .collect();
        let bytes: u64 = frame::column(&self.images, columns::BYTES)?
            .as_materialized_series()
            .cast(&DataType::UInt64)
            .ctx("summing file sizes")?
            .u64()
            .ctx("summing file sizes")?
            .sum()
            .unwrap_or(0);
        df!(
            "images" => [self.len() as u64],
            "per class" => [per_class.join(", ")],
            "on disk (MB)" => [bytes as f64 / 1e6],
            "skipped files" => [self.skipped.len() as u64],
            "root" => [self.root.display().to_string()],
        )
        .ctx("describing the dataset")
    }

    /// evcxr's display hook: the origin in a coloured box (amber for the synthetic phantoms,
    /// green for real X-rays), then [`overview`](Self::overview).
    pub fn evcxr_display(&self) {
        let (colour, border) = match self.origin {
            Origin::Synthetic { .. } => ("#fff4d6", "#d99a00"),
            Origin::RealSample => ("#e6f4ea", "#2e7d32"),
            Origin::Folder => ("#eef2f7", "#7a8ba0"),
        };
        let table = self
            .overview()
            .and_then(|df| frame::html_table(&df, 1))
            .unwrap_or_default();
        println!(
            "EVCXR_BEGIN_CONTENT text/plain\n{}\n{} images under {}\nEVCXR_END_CONTENT\n\
             EVCXR_BEGIN_CONTENT text/html\n<div style=\"background:{colour};border-left:6px solid \
             {border};padding:0.5em 0.8em;margin:0.3em 0\"><b>{}</b></div>{table}\nEVCXR_END_CONTENT",
            self.origin,
            self.len(),
            self.root.display(),
            frame::escape_html(&self.origin.to_string()),
        );
    }

    /// How many images the table holds.
    pub fn len(&self) -> usize {
        self.images.height()
    }

    /// True when the table holds no image (a scan never returns such a dataset).
    pub fn is_empty(&self) -> bool {
        self.images.height() == 0
    }
}

/// Images per `group` column (`split`, or later a resplit's `subset`) and class.
///
/// Returns a DataFrame with columns `<group>`, `class`, `images`, groups in the report's order
/// (train, test, val, validation, then others alphabetically), classes sorted.
pub fn counts(images: &DataFrame, group: &str) -> Result<DataFrame> {
    frame::require(images, &[group, columns::CLASS], "counting images")?;
    let counts = frame::fresh(images)
        .lazy()
        .group_by([col(group), col(columns::CLASS)])
        .agg([len().cast(DataType::UInt32).alias("images")])
        .with_column(crate::subset::rank_expr(col(group)).alias("__rank"))
        .sort(
            ["__rank", group, columns::CLASS],
            SortMultipleOptions::default(),
        )
        .drop(Selector::ByName {
            names: Arc::new(["__rank".into()]),
            strict: true,
        })
        .collect()
        .ctx("counting images per group and class")?;
    Ok(frame::fresh(&counts))
}

/// The patient a Kaggle chest X-ray file name points to, or `None` when the name does not fit.
///
/// The dataset's names carry the patient: `person1946_bacteria_4874.jpeg` is patient `person1946`,
/// `IM-0115-0001.jpeg` is `IM-0115`. Names such as `NORMAL2-IM-1427-0001.jpeg` come from a second
/// batch whose numbering may or may not match the first; we cannot tell, so we group coarsely and
/// give them the same id as `IM-1427-…`: two people sharing an id only makes a grouped split
/// stricter, while two ids for one person would let that person leak across subsets.
///
/// ```
/// use xray_lab::load::patient_id;
/// assert_eq!(patient_id("person1946_bacteria_4874.jpeg").as_deref(), Some("person1946"));
/// assert_eq!(patient_id("person1_virus_6.jpeg").as_deref(), Some("person1"));
/// assert_eq!(patient_id("IM-0115-0001.jpeg").as_deref(), Some("IM-0115"));
/// assert_eq!(patient_id("NORMAL2-IM-1427-0001.jpeg").as_deref(), Some("IM-1427"));
/// assert_eq!(patient_id("scan_0042.png"), None);
/// ```
pub fn patient_id(file_name: &str) -> Option<String> {
    // Hand-written rather than a regex: two fixed prefixes, and it keeps the regex engine out of
    // every notebook's compile.
    let stem = file_name
        .rsplit_once('.')
        .map_or(file_name, |(stem, _)| stem);
    if let Some(rest) = stem.strip_prefix("person") {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let after = &rest[digits.len()..];
        if !digits.is_empty() && (after.is_empty() || after.starts_with('_')) {
            return Some(format!("person{digits}"));
        }
        return None;
    }
    let at = stem.find("IM-")?;
    // Only the bare name or a batch prefix ending in '-' (NORMAL2-) may come before IM-.
    if at > 0 && !stem[..at].ends_with('-') {
        return None;
    }
    let rest = &stem[at + 3..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let after = &rest[digits.len()..];
    if digits.is_empty() || !(after.is_empty() || after.starts_with('-')) {
        return None;
    }
    Some(format!("IM-{digits}"))
}

#[cfg(test)]
mod tests {
    use super::*;

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
