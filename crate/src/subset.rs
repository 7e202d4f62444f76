//! Subsets: which part of the data an image belongs to, as a type.
//!
//! On disk an image's subset is its first folder under the root (the `split` column of
//! [`crate::load::scan`]: `train`, `test`, `val`); after [`crate::split::resplit`] it is the
//! `subset` column (`train`, `test`, `validation`, and `val` when the original val folder is
//! kept). [`Subset`] names them in code, and [`column_of`] is the one place that decides which
//! of the two columns a table's subsets are read from.
//!
//! ```
//! use xray_lab::subset::Subset;
//! assert_eq!(Subset::Validation.to_string(), "validation");
//! assert_eq!(Subset::from("test"), Subset::Test);
//! assert_eq!(Subset::from("fold-3"), Subset::Other("fold-3".into()));
//! // The report's order: train, test, val, validation, then others by name.
//! let mut subsets = vec![Subset::from("zeta"), Subset::Validation, Subset::Train, Subset::Test];
//! subsets.sort();
//! assert_eq!(subsets, [Subset::Train, Subset::Test, Subset::Validation, Subset::from("zeta")]);
//! ```

use std::fmt;

use polars::prelude::*;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::columns;
use crate::error::{Error, Result};
use crate::frame;

/// The column a resplit writes: each image's subset.
pub const SUBSET_COLUMN: &str = columns::SUBSET;
/// The column a scan writes: each image's first folder under the root.
pub const SPLIT_COLUMN: &str = columns::SPLIT;

/// Which part of the data an image belongs to. Displays (and serializes) as its name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subset {
    /// The images models are fitted on (`train`).
    Train,
    /// The held-out images scores are reported on (`test`).
    Test,
    /// Kaggle's original validation folder (`val`, 16 images).
    Val,
    /// The validation subset a resplit draws, where penalties and thresholds are chosen (`validation`).
    Validation,
    /// A dataset without split folders (`root/CLASS/*`): every image (`all`).
    All,
    /// Any other folder name.
    Other(String),
}

impl Subset {
    /// Its name in tables, files and figures.
    pub fn name(&self) -> &str {
        match self {
            Subset::Train => "train",
            Subset::Test => "test",
            Subset::Val => "val",
            Subset::Validation => "validation",
            Subset::All => "all",
            Subset::Other(name) => name,
        }
    }

    /// The report's order as a number: train, test, val, validation, then the others.
    pub fn rank(&self) -> u8 {
        match self {
            Subset::Train => 0,
            Subset::Test => 1,
            Subset::Val => 2,
            Subset::Validation => 3,
            Subset::All | Subset::Other(_) => 4,
        }
    }
}

impl From<&str> for Subset {
    fn from(name: &str) -> Self {
        match name {
            "train" => Subset::Train,
            "test" => Subset::Test,
            "val" => Subset::Val,
            "validation" => Subset::Validation,
            "all" => Subset::All,
            other => Subset::Other(other.to_string()),
        }
    }
}

impl From<String> for Subset {
    fn from(name: String) -> Self {
        Subset::from(name.as_str())
    }
}

impl std::str::FromStr for Subset {
    type Err = std::convert::Infallible;
    fn from_str(name: &str) -> std::result::Result<Self, Self::Err> {
        Ok(Subset::from(name))
    }
}

impl fmt::Display for Subset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl PartialEq<str> for Subset {
    fn eq(&self, other: &str) -> bool {
        self.name() == other
    }
}

impl PartialEq<&str> for Subset {
    fn eq(&self, other: &&str) -> bool {
        self.name() == *other
    }
}

impl Ord for Subset {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.rank(), self.name()).cmp(&(other.rank(), other.name()))
    }
}

impl PartialOrd for Subset {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Serialize for Subset {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Subset {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        Ok(Subset::from(String::deserialize(deserializer)?))
    }
}

/// One value for each of the three subsets an evaluation uses: fitted on `train`, tuned on
/// `validation`, judged on `test` (their names, their samples, their sizes). Named fields where
/// an array would be indexed `[0]`, `[1]`, `[2]`.
///
/// ```
/// use xray_lab::subset::{Splits, Subset};
/// let names = Splits::new(Subset::Train, Subset::Validation, Subset::Test);
/// assert_eq!(names.test, Subset::Test);
/// assert_eq!(names.as_ref().map(|s| s.name().len()), Splits::new(5, 10, 4));
/// assert_eq!(names.iter().map(Subset::name).collect::<Vec<_>>(), ["train", "validation", "test"]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Splits<T> {
    /// What the models are fitted on.
    pub train: T,
    /// What thresholds and settings are chosen on.
    pub validation: T,
    /// What the models are judged on, once.
    pub test: T,
}

impl<T> Splits<T> {
    /// The three values, in the order train, validation, test.
    pub fn new(train: T, validation: T, test: T) -> Self {
        Splits {
            train,
            validation,
            test,
        }
    }

    /// Each value through `f`, in the order train, validation, test.
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> Splits<U> {
        Splits::new(f(self.train), f(self.validation), f(self.test))
    }

    /// [`Splits::map`] with a function that can fail: the first error, in that order.
    pub fn try_map<U, E>(
        self,
        mut f: impl FnMut(T) -> std::result::Result<U, E>,
    ) -> std::result::Result<Splits<U>, E> {
        Ok(Splits::new(
            f(self.train)?,
            f(self.validation)?,
            f(self.test)?,
        ))
    }

    /// References to the three values.
    pub fn as_ref(&self) -> Splits<&T> {
        Splits::new(&self.train, &self.validation, &self.test)
    }

    /// The three values, in the order train, validation, test.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        [&self.train, &self.validation, &self.test].into_iter()
    }

    /// The pairs of two splits, subset by subset.
    pub fn zip<U>(self, other: Splits<U>) -> Splits<(T, U)> {
        Splits::new(
            (self.train, other.train),
            (self.validation, other.validation),
            (self.test, other.test),
        )
    }
}

/// The column that names a table's subsets: `subset` after a resplit, else the folder `split`.
/// Errors, naming `what` needed it, when the table has neither.
pub fn column_of(table: &DataFrame, what: &str) -> Result<&'static str> {
    if frame::has_column(table, SUBSET_COLUMN) {
        Ok(SUBSET_COLUMN)
    } else if frame::has_column(table, SPLIT_COLUMN) {
        Ok(SPLIT_COLUMN)
    } else {
        Err(Error::MissingColumn {
            what: what.into(),
            column: format!("{SPLIT_COLUMN}` or `{SUBSET_COLUMN}"),
            columns: frame::names(table),
        })
    }
}

/// Each row's subset, read from [`column_of`]'s column (a null reads as an empty name).
pub fn of_rows(table: &DataFrame, what: &str) -> Result<Vec<Subset>> {
    let column = column_of(table, what)?;
    Ok(frame::strings(table, column)?
        .into_iter()
        .map(Subset::from)
        .collect())
}

/// [`Subset::rank`] as a polars expression, to sort tables in the report's order.
pub(crate) fn rank_expr(name: Expr) -> Expr {
    let rank = |s: Subset| lit(s.rank() as u32);
    let is = |s: Subset| name.clone().eq(lit(s.name().to_string()));
    when(is(Subset::Train))
        .then(rank(Subset::Train))
        .when(is(Subset::Test))
        .then(rank(Subset::Test))
        .when(is(Subset::Val))
        .then(rank(Subset::Val))
        .when(is(Subset::Validation))
        .then(rank(Subset::Validation))
        .otherwise(rank(Subset::All))
}
