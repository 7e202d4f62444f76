//! The whole report in one call, without Jupyter: scan, resplit, image facts, features (cached),
//! training and evaluation, every figure, the three dashboards, the HTML page, the split file,
//! the models and `metrics.json`. What `xray-lab report` runs.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::decode::{self, DecodeOptions, Reject};
use crate::plot::{self, Figure};
use crate::train::{self, metrics::Metrics, TrainOptions};
use crate::{load, split, Error, Result};

/// Settings of [`build`].
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// A split file to reuse (from `xray-lab split`); default: the default resplit.
    pub split: Option<PathBuf>,
    /// How to decode.
    pub decode: DecodeOptions,
    /// How to train.
    pub train: TrainOptions,
    /// Print a line as each stage starts and ends.
    pub verbose: bool,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            split: None,
            decode: DecodeOptions::new(),
            train: TrainOptions::new(),
            verbose: false,
        }
    }
}

/// Images of one subset and class.
#[derive(Debug, Clone, Serialize)]
pub struct Count {
    /// The subset.
    pub subset: String,
    /// The class.
    pub class: String,
    /// How many images.
    pub images: u32,
}

/// One model's metrics on one subset.
#[derive(Debug, Clone, Serialize)]
pub struct ModelMetrics {
    /// The model.
    pub model: String,
    /// What it reads.
    pub features: String,
    /// The subset.
    pub subset: String,
    /// The metrics.
    #[serde(flatten)]
    pub metrics: Metrics,
}

impl ModelMetrics {
    /// One row per model and subset of an evaluation.
    pub fn of(evaluation: &train::Evaluation) -> Vec<ModelMetrics> {
        evaluation
            .results
            .iter()
            .map(|r| ModelMetrics {
                model: r.model.clone(),
                features: r.features.clone(),
                subset: r.subset.clone(),
                metrics: r.metrics.clone(),
            })
            .collect()
    }
}

/// What [`build`] wrote and measured; saved as `metrics.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The dataset root.
    pub data: PathBuf,
    /// Images per subset and class after the split.
    pub counts: Vec<Count>,
    /// Files the scan skipped, with the reason.
    pub skipped: Vec<Reject>,
    /// Files that could not be decoded, with the reason.
    pub rejects: Vec<Reject>,
    /// Metrics per model and subset.
    pub metrics: Vec<ModelMetrics>,
    /// The linear regression's penalty search: (alpha, validation RMSE).
    pub ridge_path: Vec<(f64, f64)>,
    /// Seconds per stage, in order.
    pub stages: Vec<(String, f64)>,
    /// Every file written (figures, dashboards, page, split, models).
    pub files: Vec<PathBuf>,
    /// Total seconds.
    pub seconds: f64,
}

struct Stages {
    start: Instant,
    times: Vec<(String, f64)>,
    verbose: bool,
}

impl Stages {
    fn run<T>(&mut self, name: &str, work: impl FnOnce() -> Result<T>) -> Result<T> {
        if self.verbose {
            println!("== {name}");
        }
        let t = Instant::now();
        let out = work()?;
        let seconds = t.elapsed().as_secs_f64();
        if self.verbose {
            println!("   {name}: {seconds:.2} s");
        }
        self.times.push((name.to_string(), seconds));
        Ok(out)
    }
}

/// Run the whole report on the dataset at `root`, writing into `out`: `figures/` (SVG and PNG),
/// `dashboards/` (the report's three, SVG and PNG), `report.html`, `split.csv`, `models/` and
/// `metrics.json`. A second run reuses the feature and file-facts caches.
pub fn build(
    root: impl AsRef<Path>,
    out: impl AsRef<Path>,
    options: &ReportOptions,
) -> Result<Summary> {
    let (root, out) = (root.as_ref(), out.as_ref());
    let mut stages = Stages {
        start: Instant::now(),
        times: Vec::new(),
        verbose: options.verbose,
    };
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let dataset = stages.run("scan", || load::scan(root))?;
    let images = stages.run("split", || {
        let images = match &options.split {
            Some(file) => split::read_split(&dataset.images, &dataset.root, file)?,
            None => split::default_split(&dataset)?,
        };
        split::check_leakage(&images)?;
        Ok(images)
    })?;
    let facts = stages.run("image facts", || decode::facts(&images))?;
    let features = stages.run("features", || decode::features(&images, &options.decode))?;
    let evaluation = stages.run("training and evaluation", || {
        train::evaluate(&features, &options.train)
    })?;

    let mut files = Vec::new();
    let figures = stages.run("figures", || {
        let size_stats = decode::size_stats(&facts, "subset")?;
        let model = |name: &str| {
            evaluation
                .model(name)
                .ok_or_else(|| Error::InvalidInput(format!("no model {name:?}")))
        };
        let figures: Vec<(&str, Figure)> = vec![
            ("images_per_subset", plot::images_per_subset(&images)?),
            (
                "images_before_and_after",
                plot::compare_subsets(&[
                    ("Kaggle folders", &dataset.images),
                    ("after the resplit", &images),
                ])?,
            ),
            ("classes_per_subset", plot::classes_per_subset(&images)?),
            ("classes_stacked", plot::classes_stacked(&images)?),
            ("subset_shares", plot::subset_shares(&images)?),
            ("population_graph", plot::population_graph(&images)?),
            ("image_sizes", plot::image_sizes(&facts)?),
            (
                "width_histogram",
                plot::size_histogram(&facts, "width", 30)?,
            ),
            (
                "height_histogram",
                plot::size_histogram(&facts, "height", 30)?,
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
                plot::intensity_stats_per_subset(&features.intensity_stats("subset")?)?,
            ),
            (
                "sample_grid",
                plot::sample_grid(&images, 3, &options.decode)?,
            ),
            ("roc_curves", plot::roc_curves(&evaluation, "test")?),
            (
                "confusion_matrices",
                plot::confusion_matrices(&evaluation, "test")?,
            ),
            (
                "score_histograms",
                plot::score_histograms(&evaluation, "linear regression (report)", "test")?,
            ),
            (
                "coefficients_linear_regression",
                plot::coefficient_image(model("linear regression (report)")?)?,
            ),
            (
                "coefficients_logistic_regression",
                plot::coefficient_image(model("logistic regression")?)?,
            ),
            ("color_legend", plot::color_legend()),
        ];
        Ok(figures)
    })?;
    stages.run("saving figures", || {
        for (stem, figure) in &figures {
            files.extend(figure.save(out.join("figures").join(stem))?);
        }
        Ok(())
    })?;
    stages.run("dashboards and page", || {
        let get = |stem: &str| -> Figure {
            figures
                .iter()
                .find(|(s, _)| *s == stem)
                .map(|(_, f)| f.clone())
                .expect("a figure made above")
        };
        let boards = [
            (
                "dashboard_simple",
                plot::dashboard("Dashboard 1: images and classes per subset", ["images_before_and_after", "images_per_subset", "classes_per_subset", "classes_stacked"].map(get).to_vec(), 2)?,
            ),
            (
                "dashboard_proportions",
                plot::dashboard("Dashboard 2: proportions", ["classes_per_subset", "subset_shares", "population_graph", "color_legend"].map(get).to_vec(), 2)?,
            ),
            (
                "dashboard_complete",
                plot::dashboard("Dashboard 3: the whole report", figures.iter().map(|(_, f)| f.clone()).collect(), 4)?,
            ),
        ];
        for (stem, board) in &boards {
            files.extend(board.save(out.join("dashboards").join(stem))?);
        }
        let metrics = crate::frame::fresh(&evaluation.metrics_frame()?);
        let page = plot::html_page(
            "Chest X-rays: NORMAL or PNEUMONIA",
            &format!(
                "The report's exploration, resplit and models, rebuilt with xray-lab on {} ({} images).",
                dataset.root.display(),
                images.height()
            ),
            &figures.iter().map(|(_, f)| f.clone()).collect::<Vec<_>>(),
            &[("Images per subset and class", &split::summary(&images)?), ("Models per subset", &metrics)],
        )?;
        let file = out.join("report.html");
        plot::save_page(&page, &file)?;
        files.push(file);
        Ok(())
    })?;
    stages.run("split file and models", || {
        let file = out.join("split.csv");
        split::write_split(&images, &dataset.root, &file)?;
        files.push(file);
        files.extend(evaluation.save_models(out.join("models"))?);
        Ok(())
    })?;

    let counts = split::summary(&images)?;
    let subsets = decode::strings(&counts, "subset")?;
    let classes = decode::strings(&counts, "class")?;
    let numbers: Vec<u32> = crate::frame::column(&counts, "images")?
        .cast(&polars::prelude::DataType::UInt32)
        .map_err(|source| Error::Polars {
            context: "reading counts".into(),
            source,
        })?
        .u32()
        .map_err(|source| Error::Polars {
            context: "reading counts".into(),
            source,
        })?
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect();
    let mut summary = Summary {
        data: dataset.root.clone(),
        counts: subsets
            .into_iter()
            .zip(classes)
            .zip(numbers)
            .map(|((subset, class), images)| Count {
                subset,
                class,
                images,
            })
            .collect(),
        skipped: dataset
            .skipped
            .iter()
            .map(|s| Reject {
                path: s.path.clone(),
                reason: s.reason.to_string(),
            })
            .collect(),
        rejects: features.rejects.clone(),
        metrics: ModelMetrics::of(&evaluation),
        ridge_path: evaluation.ridge_path.clone(),
        stages: stages.times.clone(),
        files,
        seconds: stages.start.elapsed().as_secs_f64(),
    };
    let file = out.join("metrics.json");
    summary.files.push(file.clone());
    let json = serde_json::to_vec_pretty(&summary)
        .map_err(|e| Error::InvalidInput(format!("{}: {e}", file.display())))?;
    crate::cache::write_file(&file, &json)?;
    Ok(summary)
}
