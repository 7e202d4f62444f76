//! The split file: a CSV of `path,subset` a user can share, written and read back.

use std::collections::HashMap;
use std::path::Path;

use polars::prelude::*;

use super::rows::read_rows;
use crate::columns;
use crate::error::{Error, PolarsContext, Result};
use crate::frame;

/// Write a split as a CSV a user can share: one row per image, `path` (relative to `root`, with
/// `/` separators) and `subset`.
pub fn write_split(
    images: &DataFrame,
    root: impl AsRef<Path>,
    file: impl AsRef<Path>,
) -> Result<()> {
    let (root, file) = (root.as_ref(), file.as_ref());
    if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    let rows = read_rows(images, &[columns::PATH, columns::SUBSET], "writing a split")?;
    frame::require(images, &[columns::SUBSET], "writing a split")?;
    let subset = frame::column(images, columns::SUBSET)?;
    let subset = subset.str().ctx("reading subsets")?;
    let mut writer = csv::Writer::from_path(file).map_err(|e| csv_error(file, e))?;
    writer
        .write_record([columns::PATH, columns::SUBSET])
        .map_err(|e| csv_error(file, e))?;
    for (p, s) in rows.path.iter().zip(subset.iter()) {
        writer
            .write_record([relative(root, p), s.unwrap_or_default().to_string()])
            .map_err(|e| csv_error(file, e))?;
    }
    writer.flush().map_err(|e| Error::io(file, e))
}

/// Apply a split file written by [`write_split`] to a scanned table: returns `images` with the
/// file's `subset` column. Errors name the file and the first image it lacks or the first row
/// that matches no image.
pub fn read_split(
    images: &DataFrame,
    root: impl AsRef<Path>,
    file: impl AsRef<Path>,
) -> Result<DataFrame> {
    let (root, file) = (root.as_ref(), file.as_ref());
    let mut reader = csv::Reader::from_path(file).map_err(|e| csv_error(file, e))?;
    let mut by_path: HashMap<String, String> = HashMap::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| csv_error(file, e))?;
        match (record.get(0), record.get(1)) {
            (Some(p), Some(s)) if !s.is_empty() => {
                by_path.insert(p.to_string(), s.to_string());
            }
            _ => {
                return Err(Error::Format {
                    path: file.to_path_buf(),
                    reason: format!("row {} needs a path and a subset", line + 2),
                })
            }
        }
    }
    let rows = read_rows(images, &[columns::PATH], "reading a split")?;
    let mut subset = Vec::with_capacity(rows.path.len());
    for p in &rows.path {
        let rel = relative(root, p);
        match by_path.remove(&rel) {
            Some(s) => subset.push(s),
            None => {
                return Err(Error::Format {
                    path: file.to_path_buf(),
                    reason: format!(
                        "has no subset for image {rel} (the split was made for another dataset?)"
                    ),
                })
            }
        }
    }
    if let Some(extra) = by_path.keys().min() {
        return Err(Error::Format {
            path: file.to_path_buf(),
            reason: format!(
                "lists {} images that are not in the dataset, e.g. {extra}",
                by_path.len()
            ),
        });
    }
    let mut out = frame::fresh(images);
    out.with_column(Column::new(columns::SUBSET.into(), subset))
        .ctx("adding the subset column")?;
    Ok(frame::fresh(&out))
}

fn relative(root: &Path, path: &str) -> String {
    let p = Path::new(path);
    let rel = p.strip_prefix(root).unwrap_or(p);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn csv_error(file: &Path, source: csv::Error) -> Error {
    Error::Csv {
        path: file.to_path_buf(),
        source,
    }
}
