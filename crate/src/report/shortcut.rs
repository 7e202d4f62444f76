//! The report's shortcut section: acquisition facts, the matched test, occlusion maps.

use serde::Serialize;

use crate::error::PolarsContext;
use crate::{occlusion, shortcut, Result};
use polars::prelude::DataFrame;

/// Images per class averaged into the report's occlusion maps.
pub const OCCLUSION_IMAGES: usize = 20;
/// The occlusion patch of the report's maps, in pixels of the 150x150 features (10% of the side).
pub const OCCLUSION_PATCH: usize = 15;
/// The occlusion stride of the report's maps.
pub const OCCLUSION_STRIDE: usize = 5;

/// The shortcut section of `metrics.json`: tables as lists of rows (column name to value).
#[derive(Debug, Clone, Serialize)]
pub struct ShortcutSummary {
    /// The header facts per class ([`shortcut::acquisition`]).
    pub acquisition: serde_json::Value,
    /// The matched test's counts ([`shortcut::Matched::summary`]) and its tolerance.
    pub matched: serde_json::Value,
    /// Every model on the test subset and its matched part, usual decoding
    /// ([`shortcut::on_matched`]).
    pub on_matched: serde_json::Value,
    /// The pixel models trained again on size-blind features, on the test and its matched part.
    pub size_blind_on_matched: serde_json::Value,
    /// Where each model looks ([`occlusion::regions_table`]).
    pub occlusion: serde_json::Value,
    /// The occlusion maps' settings: images per class, patch, stride (pixels).
    pub occlusion_settings: [usize; 3],
}

/// The shortcut section as tables and maps, made by [`Run::shortcut`](super::Run::shortcut).
pub struct Shortcut {
    /// The header facts per class.
    pub acquisition: DataFrame,
    /// The matched test.
    pub matched: shortcut::Matched,
    /// Its counts ([`shortcut::Matched::summary`]) with the tolerance.
    pub matched_summary: DataFrame,
    /// Every model on the test and its matched part (usual decoding).
    pub on_matched: DataFrame,
    /// The pixel models trained on size-blind features, on the test and its matched part.
    pub size_blind_on_matched: DataFrame,
    /// Each model's occlusion maps averaged per class (pixel and file-facts models).
    pub maps: Vec<occlusion::ClassMaps>,
    /// Where each model looks.
    pub regions: DataFrame,
}

impl Shortcut {
    pub(super) fn summary(&self) -> Result<ShortcutSummary> {
        Ok(ShortcutSummary {
            acquisition: rows_json(&self.acquisition)?,
            matched: rows_json(&self.matched_summary)?,
            on_matched: rows_json(&self.on_matched)?,
            size_blind_on_matched: rows_json(&self.size_blind_on_matched)?,
            occlusion: rows_json(&self.regions)?,
            occlusion_settings: [OCCLUSION_IMAGES, OCCLUSION_PATCH, OCCLUSION_STRIDE],
        })
    }

    /// The section's tables, titled, for the page.
    pub fn tables(&self) -> Vec<(&'static str, &DataFrame)> {
        vec![
            ("The shortcut: header facts per class", &self.acquisition),
            (
                "The shortcut: the test matched on width and height",
                &self.matched_summary,
            ),
            (
                "The shortcut: test against its part matched on width and height",
                &self.on_matched,
            ),
            (
                "The shortcut: size-blind decoding, test against its matched part",
                &self.size_blind_on_matched,
            ),
            (
                "The shortcut: where the models look (occlusion)",
                &self.regions,
            ),
        ]
    }
}

/// A table as a JSON list of rows (column name to value; NaN and nulls as null).
/// Written here because polars' own JSON writer needs its `json` feature (more of polars-io
/// to build) for these few small tables.
fn rows_json(table: &DataFrame) -> Result<serde_json::Value> {
    use polars::prelude::AnyValue;
    let columns = table.columns();
    let rows = (0..table.height())
        .map(|i| {
            let mut row = serde_json::Map::new();
            for c in columns {
                let value = match c.get(i).ctx("reading a table for metrics.json")? {
                    AnyValue::Null => serde_json::Value::Null,
                    AnyValue::Boolean(b) => b.into(),
                    AnyValue::String(s) => s.into(),
                    AnyValue::StringOwned(s) => s.to_string().into(),
                    v => match v.extract::<f64>() {
                        Some(x) if x.is_finite() => {
                            if v.is_integer() {
                                (x as i64).into()
                            } else {
                                x.into()
                            }
                        }
                        _ => serde_json::Value::Null,
                    },
                };
                row.insert(c.name().to_string(), value);
            }
            Ok(serde_json::Value::Object(row))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(serde_json::Value::Array(rows))
}
