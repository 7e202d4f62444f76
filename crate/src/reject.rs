//! Why a file could not be read as an image: the reason every rejected file carries, in the
//! rejects table, the `facts_error` column and [`Error::Decode`](crate::Error::Decode). A leaf
//! module (it imports nothing of the crate), so that the error type and the stages that reject
//! files can all name it.

use serde::{Deserialize, Serialize};

/// Why a file could not be read as an image (its header, or its pixels). Displays as the
/// sentence the rejects table and the `facts_error` column show; the decoders' own words are
/// kept where they say more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum RejectReason {
    /// The file could not be read (the operating system's reason).
    Unreadable(String),
    /// The file has no bytes.
    Empty,
    /// The bytes are no image format the decoders know.
    NotAnImage,
    /// The header is damaged (the sentence names the format and the decoder's reason).
    BadHeader(String),
    /// The header claims no pixels.
    NoPixels {
        /// Width claimed.
        width: u64,
        /// Height claimed.
        height: u64,
    },
    /// The header claims more pixels than [`DecodeOptions::max_pixels`](crate::decode::DecodeOptions::max_pixels) (a decompression bomb?).
    TooLarge {
        /// Width claimed.
        width: u64,
        /// Height claimed.
        height: u64,
        /// The limit.
        limit: u64,
    },
    /// The file ends before its image data does.
    Truncated(String),
    /// The image data is damaged (the sentence names the format and the decoder's reason).
    Corrupt(String),
    /// A decoder or the resizer failed unexpectedly (a caught panic, an internal error).
    Failed(String),
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RejectReason::Unreadable(e) => write!(f, "cannot read: {e}"),
            RejectReason::Empty => f.write_str("empty file (0 bytes)"),
            RejectReason::NotAnImage => f.write_str("not an image (unrecognised format)"),
            RejectReason::NoPixels { width, height } => {
                write!(f, "claims {width} x {height} pixels")
            }
            RejectReason::TooLarge {
                width,
                height,
                limit,
            } => write!(
                f,
                "claims {width} x {height} pixels, over the limit of {limit} (a decompression bomb?)"
            ),
            RejectReason::BadHeader(text)
            | RejectReason::Truncated(text)
            | RejectReason::Corrupt(text)
            | RejectReason::Failed(text) => f.write_str(text),
        }
    }
}
