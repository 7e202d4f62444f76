//! The per-file facts cache: header facts and content hashes while a file is unchanged.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::header::ImageFacts;
use crate::error::Error;
use crate::files::{write_file, Stamp};
use crate::reject::RejectReason;

/// What is known of one file at one stamp: its header facts and its content hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct FileRecord {
    bytes: u64,
    mtime_ns: i64,
    #[serde(default)]
    facts: Option<std::result::Result<ImageFacts, RejectReason>>,
    #[serde(default)]
    content_hash: Option<String>,
}

/// The format of the facts cache: a change makes old files be ignored.
const FACTS_FORMAT: u32 = 3;

/// The per-file facts cache (`files-v3.json` in the cache folder): header facts and content
/// hashes, reused while a file keeps its size and modification time. Small (about 200 bytes a
/// file), so JSON; written to a temporary name and renamed into place like the feature cache.
pub(crate) struct FileFacts {
    file: PathBuf,
    records: HashMap<String, FileRecord>,
    changed: bool,
}

impl FileFacts {
    /// Loads the cache kept in `folder`; a missing or unreadable one is empty (and replaced on
    /// save).
    pub(crate) fn open(folder: &Path) -> FileFacts {
        let file = folder.join(format!("files-v{FACTS_FORMAT}.json"));
        let records = std::fs::read(&file)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        FileFacts {
            file,
            records,
            changed: false,
        }
    }

    fn record(&self, key: &str, stamp: &Stamp) -> Option<&FileRecord> {
        self.records
            .get(key)
            .filter(|r| r.bytes == stamp.bytes && r.mtime_ns == stamp.mtime_ns)
    }

    fn record_mut(&mut self, key: &str, stamp: &Stamp) -> &mut FileRecord {
        self.changed = true;
        let fresh = FileRecord {
            bytes: stamp.bytes,
            mtime_ns: stamp.mtime_ns,
            facts: None,
            content_hash: None,
        };
        let record = self
            .records
            .entry(key.to_string())
            .or_insert_with(|| fresh.clone());
        if record.bytes != stamp.bytes || record.mtime_ns != stamp.mtime_ns {
            *record = fresh;
        }
        record
    }

    pub(crate) fn facts(
        &self,
        key: &str,
        stamp: &Stamp,
    ) -> Option<std::result::Result<ImageFacts, RejectReason>> {
        self.record(key, stamp)?.facts.clone()
    }

    pub(crate) fn hash(&self, key: &str, stamp: &Stamp) -> Option<String> {
        self.record(key, stamp)?.content_hash.clone()
    }

    pub(crate) fn set_facts(
        &mut self,
        key: &str,
        stamp: &Stamp,
        facts: std::result::Result<ImageFacts, RejectReason>,
    ) {
        self.record_mut(key, stamp).facts = Some(facts);
    }

    pub(crate) fn set_hash(&mut self, key: &str, stamp: &Stamp, hash: String) {
        self.record_mut(key, stamp).content_hash = Some(hash);
    }

    /// Writes the cache if anything changed, dropping files that no longer exist. A cache that
    /// cannot be written only costs time on the next run, so that is logged as a warning, not an
    /// error.
    pub(crate) fn save(mut self) {
        if !self.changed {
            return;
        }
        self.records.retain(|path, _| Path::new(path).exists());
        let result = serde_json::to_vec(&self.records)
            .map_err(|e| Error::Format {
                path: self.file.clone(),
                reason: format!("cannot encode the facts cache: {e}"),
            })
            .and_then(|bytes| write_file(&self.file, &bytes));
        if let Err(e) = result {
            log::warn!("the file facts cache was not updated: {e}");
        }
    }
}
