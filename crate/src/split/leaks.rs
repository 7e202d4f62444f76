//! Leak checks: the same path, file content or patient in two subsets.

use std::collections::HashMap;

use polars::prelude::*;

use super::rows::{content_hashes, hash_files, read_rows};
use crate::cache::Caches;
use crate::columns;
use crate::error::{Error, PolarsContext, Result};
use crate::frame;

/// Rows that break a split: the same path, the same file content, or the same patient in more
/// than one subset. Contents are compared by hash: the table's `content_hash` column when it has
/// one (see [`add_content_hash`]), else hashes from the cache or computed.
///
/// Returns a DataFrame with columns `kind` (`path`, `content` or `patient`), `key`, `subset` and
/// `path`, one row per offending image; empty when the split is clean.
pub fn leaks(images: &DataFrame) -> Result<DataFrame> {
    let rows = read_rows(
        images,
        &[columns::PATH, columns::SUBSET],
        "a leakage check (see split::resplit)",
    )?;
    let subset: Vec<String> = {
        frame::require(
            images,
            &[columns::SUBSET],
            "a leakage check (see split::resplit)",
        )?;
        let c = frame::column(images, columns::SUBSET)?;
        c.str()
            .ctx("reading subsets")?
            .iter()
            .map(|s| s.unwrap_or_default().to_string())
            .collect()
    };
    let hashes = match content_hashes(images)? {
        Some(hashes) => Some(hashes),
        None => Some(hash_files(&rows.path, Caches::default().folder())),
    };
    let mut kinds: Vec<(&str, Vec<Option<String>>)> = vec![
        (columns::PATH, rows.path.iter().cloned().map(Some).collect()),
        (columns::PATIENT, rows.patient.clone()),
    ];
    if let Some(h) = hashes {
        kinds.insert(1, ("content", h));
    }
    let (mut kind, mut key, mut sub, mut path) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (name, keys) in kinds {
        let mut subsets_of: HashMap<&str, std::collections::BTreeSet<&str>> = HashMap::new();
        for (i, k) in keys.iter().enumerate() {
            if let Some(k) = k {
                subsets_of.entry(k).or_default().insert(&subset[i]);
            }
        }
        for (i, k) in keys.iter().enumerate() {
            if let Some(k) = k {
                if subsets_of[k.as_str()].len() > 1 {
                    kind.push(name);
                    key.push(k.clone());
                    sub.push(subset[i].clone());
                    path.push(rows.path[i].clone());
                }
            }
        }
    }
    df!("kind" => kind, "key" => key, columns::SUBSET => sub, columns::PATH => path)
        .ctx("listing leaks")
}

/// How much a split leaks: distinct images (paths) and distinct patients found in more than one
/// subset ([`leaks`] lists the rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeakCounts {
    /// Images in two subsets or more.
    pub images: usize,
    /// Patients with images in two subsets or more.
    pub patients: usize,
}

/// [`LeakCounts`] of a split (a resplit, or the report's memberships).
pub fn leak_counts(images: &DataFrame) -> Result<LeakCounts> {
    let found = leaks(images)?;
    let kinds = frame::strings(&found, "kind")?;
    let keys = frame::strings(&found, "key")?;
    let distinct = |kind: &str| {
        let mut k: Vec<&String> = kinds
            .iter()
            .zip(&keys)
            .filter(|(k, _)| *k == kind)
            .map(|(_, key)| key)
            .collect();
        k.sort();
        k.dedup();
        k.len()
    };
    Ok(LeakCounts {
        images: distinct(columns::PATH),
        patients: distinct(columns::PATIENT),
    })
}

/// For each pair of subsets (`train & test`, ...), the distinct images and patients found in
/// both: columns `pair`, `images`, `patients`. Pairs in the report's order; a clean split has
/// zeros everywhere.
pub fn shared_between(images: &DataFrame) -> Result<DataFrame> {
    let rows = read_rows(
        images,
        &[columns::PATH, columns::SUBSET],
        "counting what subsets share",
    )?;
    let subset = frame::strings(images, columns::SUBSET)?;
    let mut names: Vec<String> = subset.clone();
    names.sort_by_key(|n| (crate::subset::Subset::from(n.as_str()).rank(), n.clone()));
    names.dedup();
    let members = |keys: &[Option<String>], name: &str| -> std::collections::BTreeSet<String> {
        keys.iter()
            .zip(&subset)
            .filter(|(_, s)| *s == name)
            .filter_map(|(k, _)| k.clone())
            .collect()
    };
    let paths: Vec<Option<String>> = rows.path.iter().cloned().map(Some).collect();
    let (mut pair, mut shared_images, mut shared_patients) = (Vec::new(), Vec::new(), Vec::new());
    for (i, a) in names.iter().enumerate() {
        for b in &names[i + 1..] {
            pair.push(format!("{a} & {b}"));
            let both = |keys: &[Option<String>]| {
                members(keys, a).intersection(&members(keys, b)).count() as u64
            };
            shared_images.push(both(&paths));
            shared_patients.push(both(&rows.patient));
        }
    }
    df!("pair" => pair, "images" => shared_images, "patients" => shared_patients)
        .ctx("counting what subsets share")
}

/// Fail loudly when a split leaks: [`Error::Leak`] names how many images and shows the first
/// offending rows. See [`leaks`] for the whole table.
pub fn check_leakage(images: &DataFrame) -> Result<()> {
    let found = leaks(images)?;
    if found.height() == 0 {
        return Ok(());
    }
    Err(Error::Leak {
        images: found.height(),
        rows: found.head(Some(10)),
    })
}

/// Add a `content_hash` column: a 128-bit XXH3 of each file's bytes, read in parallel, so
/// [`leaks`] also finds identical images under different names. Unreadable files get null.
/// Hashes are cached with the header facts (see [`crate::cache`]) while a file keeps its size
/// and modification time, so a second call reads no file.
pub fn add_content_hash(images: &DataFrame) -> Result<DataFrame> {
    add_content_hash_in(images, &Caches::default())
}

/// [`add_content_hash`], with the hashes' cache kept in `folder`.
pub fn add_content_hash_in(images: &DataFrame, caches: &Caches) -> Result<DataFrame> {
    let rows = read_rows(images, &[columns::PATH], "hashing file contents")?;
    let hashes = hash_files(&rows.path, caches.folder());
    let mut out = frame::fresh(images);
    out.with_column(Column::new(columns::CONTENT_HASH.into(), hashes))
        .ctx("adding content hashes")?;
    Ok(frame::fresh(&out))
}
