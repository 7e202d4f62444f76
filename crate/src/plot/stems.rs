//! The file stems of the report's figures that its first two dashboards pick: one spelling for
//! [`crate::report::figures`], which names its figures, and [`super::report_dashboards`], which
//! looks them up.

/// Images per subset after the resplit.
pub const IMAGES_PER_SUBSET: &str = "images_per_subset";
/// Images per subset in the Kaggle folders and after the resplit.
pub const IMAGES_BEFORE_AND_AFTER: &str = "images_before_and_after";
/// Images per class in each subset.
pub const CLASSES_PER_SUBSET: &str = "classes_per_subset";
/// Classes stacked per subset, with their shares.
pub const CLASSES_STACKED: &str = "classes_stacked";
/// Each subset's share of the images.
pub const SUBSET_SHARES: &str = "subset_shares";
/// NORMAL left, PNEUMONIA right, a row per subset.
pub const POPULATION_GRAPH: &str = "population_graph";
/// The colours of the subsets and classes.
pub const COLOR_LEGEND: &str = "color_legend";
