//! The walk over a root: every file classified as an image or a skipped entry.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use polars::prelude::*;

use super::dataset::Dataset;
use super::origin::Origin;
use super::patient::patient_id;
use super::skipped::{SkipReason, Skipped};
use crate::columns;
use crate::error::{Error, PolarsContext, Result};
use crate::frame;

/// The split name used when images sit directly in class folders (`root/CLASS/image.jpeg`).
pub const SINGLE_SPLIT: &str = "all";

/// The extensions accepted by default (compared without regard to case).
pub const DEFAULT_EXTENSIONS: [&str; 3] = ["jpeg", "jpg", "png"];

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

pub(super) fn is_hidden(name: &str) -> bool {
    name.starts_with('.') || name == "__MACOSX" || name.eq_ignore_ascii_case("thumbs.db")
}
