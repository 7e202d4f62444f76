//! Files: writing them whole or not at all, and telling when one changed.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use crate::error::{Error, Result};

/// A file's size and modification time: a cached row is reused only while both are unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Size in bytes.
    pub bytes: u64,
    /// Modification time in nanoseconds since 1970.
    pub mtime_ns: i64,
}

impl Stamp {
    /// The stamp of a file, or `None` when it cannot be read.
    pub fn of(path: &Path) -> Option<Stamp> {
        let meta = std::fs::metadata(path).ok()?;
        let mtime = meta.modified().ok()?;
        let ns = match mtime.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_nanos() as i64,
            Err(e) => -(e.duration().as_nanos() as i64),
        };
        Some(Stamp {
            bytes: meta.len(),
            mtime_ns: ns,
        })
    }
}

/// A temporary name beside `file`, unique per process and call: `NAME.tmp-PID-N`.
pub(crate) fn temporary_name(file: &Path) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}-{n}", std::process::id()));
    file.with_file_name(name)
}

/// The key of a file in the caches: its absolute path.
pub(crate) fn key(path: &str) -> String {
    std::path::absolute(path)
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|_| path.to_string())
}

/// The deepest folder holding every one of `keys` (absolute paths): the dataset's root.
pub(crate) fn common_folder(keys: &[String]) -> PathBuf {
    let mut common: Option<PathBuf> = None;
    for key in keys {
        let folder = Path::new(key).parent().unwrap_or(Path::new("/"));
        common = Some(match common {
            None => folder.to_path_buf(),
            Some(c) => c
                .components()
                .zip(folder.components())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect(),
        });
    }
    common.unwrap_or_default()
}

/// Writes `bytes` to `file` through a temporary file and a rename: a crash never leaves a
/// partial file under the real name.
pub fn write_file(file: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically(file, bytes)
}

/// Writes `bytes` to `FILE.tmp-PID` beside `file`, then renames it over `file`: a crash never
/// leaves a partial file under the real name.
pub(crate) fn write_atomically(file: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let tmp = temporary_name(file);
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, file).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(file, e)
    })
}
