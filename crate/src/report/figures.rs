//! The report's figures, in order, and its HTML page.

use crate::columns;
use crate::decode::Features;
use crate::facts;
use crate::load::Dataset;
use crate::plot::{self, stems, Figure};
use crate::subset::Subset;
use crate::train::{Evaluation, ModelKind};
use crate::{split, Result};
use polars::prelude::DataFrame;

/// Every figure of the report, with its file stem, in the report's order: the counts, the
/// image sizes (from `facts`, as [`facts::facts`] gives them), the intensities and samples (from
/// `features`), the models' results. `xray-lab report` and notebook 06 both make their figures,
/// dashboards ([`plot::report_dashboards`]) and page ([`page`]) from this list, so both give the
/// same ones.
pub fn figures(
    dataset: &Dataset,
    images: &DataFrame,
    facts: &DataFrame,
    features: &Features,
    evaluation: &Evaluation,
) -> Result<Vec<(&'static str, Figure)>> {
    let size_stats = facts::size_stats(facts, columns::SUBSET)?;
    let figures: Vec<(&'static str, Figure)> = vec![
        (stems::IMAGES_PER_SUBSET, plot::images_per_subset(images)?),
        (
            stems::IMAGES_BEFORE_AND_AFTER,
            plot::compare_subsets(&[
                ("Kaggle folders", &dataset.images),
                ("after the resplit", images),
            ])?,
        ),
        (stems::CLASSES_PER_SUBSET, plot::classes_per_subset(images)?),
        (stems::CLASSES_STACKED, plot::classes_stacked(images)?),
        (stems::SUBSET_SHARES, plot::subset_shares(images)?),
        (stems::POPULATION_GRAPH, plot::population_graph(images)?),
        ("image_sizes", plot::image_sizes(facts)?),
        ("width_histogram", plot::size_histogram(facts, "width", 30)?),
        (
            "height_histogram",
            plot::size_histogram(facts, "height", 30)?,
        ),
        (
            "width_stats_per_subset",
            plot::size_stats_per_subset(&size_stats, "width")?,
        ),
        (
            "height_stats_per_subset",
            plot::size_stats_per_subset(&size_stats, "height")?,
        ),
        (
            "intensity_histograms",
            plot::intensity_histograms(&features.intensity_histograms()?)?,
        ),
        (
            "intensity_stats_per_subset",
            plot::intensity_stats_per_subset(&features.intensity_stats(columns::SUBSET)?)?,
        ),
        (
            "sample_grid",
            plot::sample_grid(images, 3, features.options())?,
        ),
        ("roc_curves", plot::roc_curves(evaluation, Subset::Test)?),
        (
            "confusion_matrices",
            plot::confusion_matrices(evaluation, Subset::Test)?,
        ),
        (
            "score_histograms",
            plot::score_histograms(evaluation, ModelKind::LinearRegression, Subset::Test)?,
        ),
        (
            "coefficients_linear_regression",
            plot::coefficient_image(evaluation.model(ModelKind::LinearRegression)?)?,
        ),
        (
            "coefficients_logistic_regression",
            plot::coefficient_image(evaluation.model(ModelKind::LogisticRegression)?)?,
        ),
        (stems::COLOR_LEGEND, plot::color_legend()),
    ];
    Ok(figures)
}

/// The report's HTML page: the counts per subset and the metrics of every model on every subset
/// as tables, then every figure. `xray-lab report` writes it as `report.html`.
pub fn page(
    dataset: &Dataset,
    images: &DataFrame,
    evaluation: &Evaluation,
    figures: &[(&str, Figure)],
) -> Result<String> {
    page_with(dataset, images, evaluation, figures, &[])
}

/// [`page`] with more tables after the metrics (the shortcut section's).
pub(super) fn page_with(
    dataset: &Dataset,
    images: &DataFrame,
    evaluation: &Evaluation,
    figures: &[(&str, Figure)],
    extra: &[(&str, &DataFrame)],
) -> Result<String> {
    let metrics = crate::frame::fresh(&evaluation.metrics_frame()?);
    let counts = split::summary(images)?;
    let mut tables: Vec<(&str, &DataFrame)> = vec![
        ("Images per subset and class", &counts),
        ("Models per subset", &metrics),
    ];
    tables.extend_from_slice(extra);
    plot::html_page(
        "Chest X-rays: NORMAL or PNEUMONIA",
        &format!(
            "The report's exploration, resplit and models, rebuilt with xray-lab on {} ({} images; {}).",
            dataset.root.display(),
            images.height(),
            dataset.origin
        ),
        &figures.iter().map(|(_, f)| f.clone()).collect::<Vec<_>>(),
        &tables,
    )
}
