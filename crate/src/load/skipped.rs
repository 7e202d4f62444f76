//! What a scan leaves out, and why.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

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
