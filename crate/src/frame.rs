//! Small helpers for the polars DataFrames that every stage passes along.
//!
//! Why this module exists: in an evcxr notebook every cell is compiled into its own shared
//! library, and each one links its own copy of polars (evcxr links dependencies statically).
//! A DataFrame caches its schema in a hash map whose hash seed lives in a `static`, so a schema
//! cached in one cell cannot be looked up from the next one: `df.column("split")` then fails
//! although the column is there. Every function of this crate that takes or returns a
//! DataFrame drops that cache ([`fresh`]), and looks columns up by a plain scan ([`column`]),
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
        .ok_or_else(|| {
            Error::InvalidInput(format!(
                "the table has no `{name}` column; it has {:?}",
                names(df)
            ))
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
        Some(missing) => Err(Error::InvalidInput(format!(
            "{what} needs a `{missing}` column; the table has {:?}",
            names(df)
        ))),
    }
}

/// A column's values as text (cast first, so numbers work too); a null reads as "".
pub fn strings(df: &DataFrame, name: &str) -> Result<Vec<String>> {
    Ok(optional_strings(df, name)?
        .into_iter()
        .map(Option::unwrap_or_default)
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

fn names(df: &DataFrame) -> Vec<String> {
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
        let err = column(&out, "c").unwrap_err().to_string();
        assert!(err.contains("`c`") && err.contains("\"a\""), "{err}");
        assert!(require(&out, &["a", "z"], "plotting").is_err());
    }
}
