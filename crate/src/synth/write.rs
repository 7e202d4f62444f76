//! Writing the dataset (in parallel, the marker last), and finding one already written.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use super::jpeg::render_jpeg;
use super::options::{SynthOptions, SynthSummary, DEFAULT_SEED, GENERATOR_VERSION, MARKER};
use super::plan::{other_files, plan};
use crate::error::{Error, Result};

impl SynthOptions {
    /// Write the dataset under `root` (created if needed) and return what was written.
    ///
    /// Files already there are overwritten; the marker file [`MARKER`] is written last, so a
    /// dataset whose generation was interrupted is recognisable as unfinished.
    pub fn write(&self, root: impl AsRef<Path>) -> Result<SynthSummary> {
        let root = root.as_ref();
        if !(self.scale > 0.0 && self.scale.is_finite()) {
            return Err(Error::Parameter {
                name: "scale",
                value: self.scale.to_string(),
                expected: "a positive number".into(),
            });
        }
        let start = Instant::now();
        let plan = plan(self);
        for (split, class, _) in self.counts() {
            let dir = root.join(split).join(class);
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        let bytes = plan
            .par_iter()
            .map(|image| {
                let path = root.join(&image.rel_path);
                let jpeg =
                    render_jpeg(image, &self.saving(image)).map_err(|reason| Error::Image {
                        path: path.clone(),
                        reason,
                    })?;
                std::fs::write(&path, &jpeg).map_err(|e| Error::io(&path, e))?;
                Ok(jpeg.len() as u64)
            })
            .collect::<Result<Vec<u64>>>()?
            .into_iter()
            .sum();
        let others = other_files(root);
        for (path, content) in &others {
            std::fs::write(path, content).map_err(|e| Error::io(path, e))?;
        }
        let summary = SynthSummary {
            root: root.to_path_buf(),
            options: self.clone(),
            version: GENERATOR_VERSION,
            images: plan.len(),
            other_files: others.len(),
            bytes,
            seconds: start.elapsed().as_secs_f64(),
        };
        let marker = root.join(MARKER);
        let json = serde_json::to_vec_pretty(&summary).map_err(|e| Error::Format {
            path: marker.clone(),
            reason: format!("cannot encode the marker: {e}"),
        })?;
        std::fs::write(&marker, json).map_err(|e| Error::io(&marker, e))?;
        Ok(summary)
    }

    /// Generate into `root` unless a finished dataset with these options, made by this version
    /// of the generator, is already there ([`SynthOptions::is_written_in`]).
    pub fn ensure(&self, root: impl AsRef<Path>) -> Result<SynthSummary> {
        let root = root.as_ref();
        if let Some(summary) = read_marker(root) {
            if summary.options == *self && summary.version == GENERATOR_VERSION {
                return Ok(summary);
            }
        }
        self.write(root)
    }

    /// Whether `root` holds a finished dataset made with these options by this version of the
    /// generator: what [`SynthOptions::ensure`] keeps. A dataset of an older version (whose
    /// files differ) is not.
    pub fn is_written_in(&self, root: impl AsRef<Path>) -> bool {
        read_marker(root.as_ref())
            .is_some_and(|s| s.options == *self && s.version == GENERATOR_VERSION)
    }
}

/// The seed and scale the generator used under `root`, read from its marker file; `None` when
/// `root` was not made by [`SynthOptions::write`] (or its marker is unreadable).
pub(crate) fn made_with(root: &Path) -> Option<(u64, f64)> {
    read_marker(root).map(|m| (m.options.seed, m.options.scale))
}

pub(super) fn read_marker(root: &Path) -> Option<SynthSummary> {
    let text = std::fs::read(root.join(MARKER)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Where the default synthetic dataset lives: `$XRAY_LAB_CACHE`, else `$XDG_CACHE_HOME/xray-lab`,
/// else `~/.cache/xray-lab`, else the system's temporary folder; then `synthetic-v<N>-seed42`.
pub fn default_root() -> PathBuf {
    let base = crate::cache::Caches::default().folder().to_path_buf();
    base.join(format!("synthetic-v{GENERATOR_VERSION}-seed{DEFAULT_SEED}"))
}
