//! The facts of every image of a table, in parallel and cached, and their statistics.

use std::path::Path;

use polars::prelude::*;
use rayon::prelude::*;

use super::file_cache::FileFacts;
use super::header::{read_facts, ImageFacts};
use super::markers::JpegMarkers;
use crate::cache::Caches;
use crate::columns;
use crate::error::{PolarsContext, Result};
use crate::files::{key, Stamp};
use crate::frame;
use crate::reject::RejectReason;

/// The image table with what each file's header says: `width`, `height`, `channels`, `mode`,
/// `bit_depth`, `format`, `progressive`; for JPEGs the acquisition facts ([`JpegMarkers`]):
/// `exif`, `icc` (booleans), `jfif_units` (`none`, `dpi`, `dpcm`; null without a JFIF header),
/// `jfif_density` (horizontal), `chroma` (`gray`, `4:2:0`, ...), `quality` (IJG scale); and
/// `facts_error` (null unless the header could not be read; such rows have null facts). Reads
/// headers only, in parallel: about a second for the full Kaggle dataset.
pub fn facts(images: &DataFrame) -> Result<DataFrame> {
    facts_in(images, &Caches::default())
}

/// [`facts`], with the facts cache kept in `folder`.
pub fn facts_in(images: &DataFrame, caches: &Caches) -> Result<DataFrame> {
    let paths = frame::strings(images, columns::PATH)?;
    let found: Vec<std::result::Result<ImageFacts, RejectReason>> =
        facts_cached(&paths, caches.folder())
            .into_iter()
            .map(|(_, f)| f)
            .collect();
    let ok = |f: &dyn Fn(&ImageFacts) -> Option<u32>| -> Vec<Option<u32>> {
        found.iter().map(|r| r.as_ref().ok().and_then(f)).collect()
    };
    let text = |f: &dyn Fn(&ImageFacts) -> String| -> Vec<Option<String>> {
        found.iter().map(|r| r.as_ref().ok().map(f)).collect()
    };
    fn marks<T>(
        found: &[std::result::Result<ImageFacts, RejectReason>],
        f: impl Fn(&JpegMarkers) -> Option<T>,
    ) -> Vec<Option<T>> {
        found
            .iter()
            .map(|r| r.as_ref().ok().and_then(|x| x.jpeg.as_ref()).and_then(&f))
            .collect()
    }
    let mut out = frame::fresh(images);
    let columns = [
        Column::new("width".into(), ok(&|f| Some(f.width))),
        Column::new("height".into(), ok(&|f| Some(f.height))),
        Column::new("channels".into(), ok(&|f| Some(f.channels as u32))),
        Column::new("mode".into(), text(&|f| f.mode.clone())),
        Column::new("bit_depth".into(), ok(&|f| Some(f.bit_depth as u32))),
        Column::new("format".into(), text(&|f| f.format.clone())),
        Column::new(
            "progressive".into(),
            found
                .iter()
                .map(|r| r.as_ref().ok().and_then(|f| f.progressive))
                .collect::<Vec<_>>(),
        ),
        Column::new("exif".into(), marks(&found, |m| Some(m.exif))),
        Column::new("icc".into(), marks(&found, |m| Some(m.icc))),
        Column::new(
            "jfif_units".into(),
            marks(&found, |m| m.jfif.map(|d| d.unit_name())),
        ),
        Column::new(
            "jfif_density".into(),
            marks(&found, |m| m.jfif.map(|d| d.x as u32)),
        ),
        Column::new(
            "chroma".into(),
            found
                .iter()
                .map(|r| {
                    r.as_ref()
                        .ok()
                        .and_then(|f| f.jpeg.as_ref())
                        .and_then(|m| m.chroma.clone())
                })
                .collect::<Vec<_>>(),
        ),
        Column::new("quality".into(), marks(&found, |m| m.quality)),
        Column::new(
            "facts_error".into(),
            found
                .iter()
                .map(|r| r.as_ref().err().map(|e| e.to_string()))
                .collect::<Vec<_>>(),
        ),
    ];
    for column in columns {
        out.with_column(column).ctx("adding image facts")?;
    }
    Ok(frame::fresh(&out))
}

/// The header facts of each file, with its stamp (size and modification time; `None` when the
/// file cannot be read), in parallel. Reused from the file facts cache while a file keeps its
/// stamp, and the facts read anew are added to it: the report reads every header twice (facts
/// table, shortcut models) and the second read costs no file access.
pub(crate) fn facts_cached(
    paths: &[String],
    folder: &Path,
) -> Vec<(Option<Stamp>, std::result::Result<ImageFacts, RejectReason>)> {
    let mut cache = FileFacts::open(folder);
    let found: Vec<(String, Option<Stamp>, bool, _)> = paths
        .par_iter()
        .map(|p| {
            let key = key(p);
            let stamp = Stamp::of(Path::new(p));
            match stamp.as_ref().and_then(|s| cache.facts(&key, s)) {
                Some(known) => (key, stamp, false, known),
                None => (key, stamp, true, read_facts(Path::new(p))),
            }
        })
        .collect();
    for (key, stamp, fresh, facts) in &found {
        if let (Some(stamp), true) = (stamp, fresh) {
            cache.set_facts(key, stamp, facts.clone());
        }
    }
    cache.save();
    found
        .into_iter()
        .map(|(_, stamp, _, facts)| (stamp, facts))
        .collect()
}

/// Width and height per `group` (`subset`, `split` or `class`): `images`, and the `min`, `max`,
/// `mean` and `std` of each, as the report plotted per subset. Takes the table from [`facts`].
pub fn size_stats(facts: &DataFrame, group: &str) -> Result<DataFrame> {
    frame::require(facts, &[group, "width", "height"], "size statistics")?;
    let stat = |name: &str| {
        let c = || col(name).cast(DataType::Float64);
        [
            c().min().alias(format!("{name}_min")),
            c().max().alias(format!("{name}_max")),
            c().mean().alias(format!("{name}_mean")),
            c().std(1).alias(format!("{name}_std")),
        ]
    };
    let mut aggs = vec![len().cast(DataType::UInt32).alias("images")];
    aggs.extend(stat("width"));
    aggs.extend(stat("height"));
    let out = frame::fresh(facts)
        .lazy()
        .filter(col("width").is_not_null())
        .group_by([col(group)])
        .agg(aggs)
        .with_column(crate::subset::rank_expr(col(group)).alias("__rank"))
        .sort(["__rank", group], SortMultipleOptions::default())
        .drop(Selector::ByName {
            names: Arc::new(["__rank".into()]),
            strict: true,
        })
        .collect()
        .ctx("size statistics per group")?;
    Ok(frame::fresh(&out))
}
