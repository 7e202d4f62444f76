//! Files: writing them whole or not at all, and telling when one changed.

use std::fs::File;
use std::io::{BufWriter, Write};
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
    write_whole(file, |out| {
        out.write_all(bytes).map_err(|e| Error::io(file, e))
    })
}

/// The one way the crate writes a file (a split file, a model, the caches, a page): `write`
/// fills `FILE.tmp-PID-N` beside `file` (its folder created first), which is flushed, synced and
/// renamed over `file`. On any error the temporary file is removed and `file` is left as it
/// was, so a crash or a full disk never leaves a partial file under the real name.
pub(crate) fn write_whole(
    file: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<()>,
) -> Result<()> {
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let tmp = temporary_name(file);
    let result = (|| {
        let mut out = BufWriter::new(File::create(&tmp).map_err(|e| Error::io(&tmp, e))?);
        write(&mut out)?;
        let out = out
            .into_inner()
            .map_err(|e| Error::io(&tmp, e.into_error()))?;
        out.sync_all().map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, file).map_err(|e| Error::io(file, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
