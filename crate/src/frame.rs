//! Small helpers for the polars DataFrames that every stage passes along.
//!
//! Why this module exists: in an evcxr notebook every cell is compiled into its own shared
//! library, and each one links its own copy of polars (evcxr links dependencies statically).
//! A DataFrame caches its schema in a hash map whose hash seed lives in a `static`, so a schema
//! cached in one cell cannot be looked up from the next one: `df.column("split")` then fails
//! although the column is there. Every function of this crate that takes or returns a
//! DataFrame drops that cache ([`fresh`]), and looks columns up by a plain scan ([`column`](fn@column)),
//! so tables move between notebook cells safely.

use polars::prelude::*;

use crate::error::{Error, PolarsContext, Result};

/// The same columns in a new DataFrame without a cached schema (cheap: columns are shared, not
/// copied). Use it on a DataFrame that an earlier notebook cell built before calling polars'
/// own column lookups on it.
pub fn fresh(df: &DataFrame) -> DataFrame {
    // SAFETY: the columns come from a valid DataFrame of this height.
    unsafe { DataFrame::new_unchecked(df.height(), df.columns().to_vec()) }
}

/// The column `name`, found by comparing names (no cached schema involved), or an error that
/// names what was asked for and lists the columns the table has.
pub fn column<'a>(df: &'a DataFrame, name: &str) -> Result<&'a Column> {
    df.columns()
        .iter()
        .find(|c| c.name().as_str() == name)
        .ok_or_else(|| Error::MissingColumn {
            what: "a column lookup".into(),
            column: name.into(),
            columns: names(df),
        })
}

/// Whether the table has a column called `name`.
pub fn has_column(df: &DataFrame, name: &str) -> bool {
    df.columns().iter().any(|c| c.name().as_str() == name)
}

/// Fails with an error naming `what` needs `needed` when a column is missing.
pub(crate) fn require(df: &DataFrame, needed: &[&str], what: &str) -> Result<()> {
    match needed.iter().find(|n| !has_column(df, n)) {
        None => Ok(()),
        Some(missing) => Err(Error::MissingColumn {
            what: what.into(),
            column: (*missing).into(),
            columns: names(df),
        }),
    }
}

/// A column's values as text (cast first, so numbers work too); a null reads as "".
pub fn strings(df: &DataFrame, name: &str) -> Result<Vec<String>> {
    Ok(optional_strings(df, name)?
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect())
}

/// A column's values as numbers (cast to f64 first); a null reads as NaN.
///
/// ```
/// use xray_lab::prelude::*;
/// let df = df!("width" => [Some(1200u32), None])?;
/// let widths = frame::floats(&df, "width")?;
/// assert_eq!(widths[0], 1200.0);
/// assert!(widths[1].is_nan());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn floats(df: &DataFrame, name: &str) -> Result<Vec<f64>> {
    let column = column(df, name)?
        .cast(&DataType::Float64)
        .ctx("reading a number column")?;
    Ok(column
        .f64()
        .ctx("reading a number column")?
        .iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect())
}

/// A column's values as text, nulls kept as `None`.
pub fn optional_strings(df: &DataFrame, name: &str) -> Result<Vec<Option<String>>> {
    let column = column(df, name)?
        .cast(&DataType::String)
        .ctx("reading a text column")?;
    Ok(column
        .str()
        .ctx("reading a text column")?
        .iter()
        .map(|s| s.map(str::to_string))
        .collect())
}

/// What the prelude adds to every DataFrame in a notebook.
///
/// * [`query`](Table::query) starts a lazy query (`.filter`, `.select`, `.group_by`, then
///   `.collect()?`) on a table that an earlier cell made. It drops the table's cached schema first
///   ([`fresh`]), which polars' own `.lazy()` would look up with another cell's hash seed and fail.
/// * A table that ends a cell shows as an HTML table (and as text outside Jupyter), its first
///   [`SHOWN_ROWS`] rows with a line saying how many more there are.
///
/// ```
/// use xray_lab::prelude::*;
/// let df = df!("model" => ["a", "b"], "auc" => [0.9, 0.7])?;
/// let best = df.query().filter(col("auc").gt(lit(0.8))).collect()?;
/// assert_eq!(best.height(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Table {
    /// A lazy query on this table, safe in any notebook cell.
    fn query(&self) -> LazyFrame;
    /// evcxr's display hook: the table as HTML (Jupyter) and as text.
    fn evcxr_display(&self);
}

/// Rows a table shows at the end of a notebook cell.
pub const SHOWN_ROWS: usize = 25;

/// evcxr's display hook for a value shown as a table: the table, or the reason it could not be
/// made (a display hook cannot return an error).
pub(crate) fn show(table: Result<DataFrame>) {
    match table {
        Ok(df) => Table::evcxr_display(&df),
        Err(e) => println!("{e}"),
    }
}

impl Table for DataFrame {
    fn query(&self) -> LazyFrame {
        fresh(self).lazy()
    }

    fn evcxr_display(&self) {
        let df = fresh(self);
        let shown = df.head(Some(SHOWN_ROWS));
        let more = match df.height().saturating_sub(SHOWN_ROWS) {
            0 => String::new(),
            n => format!("<p>… and {n} more rows ({} in all)</p>", df.height()),
        };
        match html_table(&shown, 4) {
            Ok(html) => println!(
                "EVCXR_BEGIN_CONTENT text/plain\n{df}\nEVCXR_END_CONTENT\n\
                 EVCXR_BEGIN_CONTENT text/html\n<div>{html}{more}</div>\nEVCXR_END_CONTENT"
            ),
            Err(_) => println!("{df}"),
        }
    }
}

/// The table as an HTML `<table>`: text left-aligned, numbers right-aligned, floats with
/// `decimals` decimals, nulls empty.
pub fn html_table(table: &DataFrame, decimals: usize) -> Result<String> {
    use std::fmt::Write;
    let df = fresh(table);
    let mut out = String::from("<table>\n<tr>");
    for name in df.get_column_names() {
        let _ = write!(out, "<th>{}</th>", escape_html(name));
    }
    out.push_str("</tr>\n");
    for row in 0..df.height() {
        out.push_str("<tr>");
        for column in df.columns() {
            let value = column.get(row).ctx("reading a table to show it")?;
            let (text, class) = match value {
                AnyValue::Null => (String::new(), ""),
                AnyValue::String(s) => (s.to_string(), " class=\"text\""),
                AnyValue::StringOwned(s) => (s.to_string(), " class=\"text\""),
                AnyValue::Boolean(b) => (b.to_string(), " class=\"text\""),
                AnyValue::Float64(v) => (format!("{v:.decimals$}"), ""),
                AnyValue::Float32(v) => (format!("{v:.decimals$}"), ""),
                other => (other.to_string(), ""),
            };
            let _ = write!(out, "<td{class}>{}</td>", escape_html(&text));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    Ok(out)
}

/// `&`, `<`, `>` and `"` as HTML entities.
pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The column names, in order.
pub(crate) fn names(df: &DataFrame) -> Vec<String> {
    df.columns().iter().map(|c| c.name().to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_keeps_the_columns_and_drops_the_cached_schema() {
        let df = df!("a" => [1, 2], "b" => ["x", "y"]).unwrap();
        let _ = df.schema(); // fills the cache, as many polars calls do
        assert!(df.cached_schema().is_some());
        let out = fresh(&df);
        assert!(out.cached_schema().is_none());
        assert_eq!(out, df);
        assert_eq!(column(&out, "b").unwrap().len(), 2);
        let err = column(&out, "c").unwrap_err();
        assert!(
            matches!(&err, Error::MissingColumn { column, columns, .. }
                if column == "c" && columns == &["a", "b"]),
            "{err}"
        );
        assert!(matches!(
            require(&out, &["a", "z"], "plotting"),
            Err(Error::MissingColumn { column, .. }) if column == "z"
        ));
    }
}
