//! The whole report in one call, without Jupyter: scan, resplit, image facts, features (cached),
//! training and evaluation, every figure, the three dashboards, the HTML page, the split file,
//! the models and `metrics.json`. What `xray-lab report` runs.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::columns;
use crate::decode::{self, DecodeOptions, Features, Reject};
use crate::error::PolarsContext;
use crate::facts;
use crate::load::{self, Dataset};
use crate::plot::{self, Figure};
use crate::progress::{Progress, Stages};
use crate::split::ResplitOptions;
use crate::subset::Subset;
use crate::train::{self, metrics::Metrics, Evaluation, ModelKind, TrainOptions};
use crate::{occlusion, shortcut, split, Error, Result};
use polars::prelude::DataFrame;

/// Settings of [`build`].
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// A split file to reuse (from `xray-lab split`); default: a resplit with `resplit`.
    pub split: Option<PathBuf>,
    /// How to resplit when no split file is given (default: [`ResplitOptions::new`], seed 42).
    pub resplit: ResplitOptions,
    /// How to decode (and where the caches are).
    pub decode: DecodeOptions,
    /// How to train.
    pub train: TrainOptions,
    /// How to show progress: a line on stderr as each stage starts and ends, unless quiet.
    pub progress: Progress,
    /// Also train on the pretrained network's embeddings (`Evaluation::add_pretrained`; the
    /// weights from `scripts/fetch_pretrained.py`; about 70 s for 5,856 images on 2 cores the
    /// first time, then the cache). Needs the cargo feature `pretrained`: without it, `true`
    /// is [`Error::FeatureOff`](crate::Error::FeatureOff) before any work starts.
    pub pretrained: bool,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            split: None,
            resplit: ResplitOptions::new(),
            decode: DecodeOptions::new(),
            train: TrainOptions::new(),
            progress: Progress::Quiet,
            pretrained: false,
        }
    }
}

/// Images of one subset and class.
#[derive(Debug, Clone, Serialize)]
pub struct Count {
    /// The subset.
    pub subset: Subset,
    /// The class.
    pub class: String,
    /// How many images.
    pub images: u32,
}

/// One model's metrics on one subset.
#[derive(Debug, Clone, Serialize)]
pub struct ModelMetrics {
    /// The model.
    pub model: ModelKind,
    /// What it reads.
    pub features: String,
    /// The subset.
    pub subset: Subset,
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
                model: r.model,
                features: r.features.clone(),
                subset: r.subset.clone(),
                metrics: r.metrics.clone(),
            })
            .collect()
    }
}

pub use crate::split::SplitCheck;

/// A file the scan left out, with the reason in words.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedFile {
    /// The file.
    pub path: PathBuf,
    /// Why ([`load::SkipReason`] as text).
    pub reason: String,
}

/// One saved model.
#[derive(Debug, Clone, Serialize)]
pub struct ModelRow {
    /// The model.
    pub model: ModelKind,
    /// Its file.
    pub file: PathBuf,
    /// Its threshold, chosen on validation.
    pub threshold: f64,
    /// Seconds its fit took.
    pub fit_seconds: f64,
}

/// What [`build`] and [`train`] wrote and measured; saved as `metrics.json` (one schema for both).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The dataset root.
    pub data: PathBuf,
    /// The decode setting the features were made with (`150px-dct`).
    pub settings: String,
    /// Images per subset and class after the split.
    pub counts: Vec<Count>,
    /// What the split's leak checks found.
    pub split_check: SplitCheck,
    /// Files the scan skipped, with the reason.
    pub skipped: Vec<SkippedFile>,
    /// Files that could not be decoded, with the reason.
    pub rejects: Vec<Reject>,
    /// The saved models.
    pub models: Vec<ModelRow>,
    /// Metrics per model and subset.
    pub metrics: Vec<ModelMetrics>,
    /// The linear regression's penalty search: (alpha, validation RMSE).
    pub ridge_path: Vec<(f64, f64)>,
    /// Seconds per stage, in order.
    pub stages: Vec<(String, f64)>,
    /// Every file written (figures, dashboards, page, split, models, metrics.json).
    pub files: Vec<PathBuf>,
    /// How much of the scores the acquisition explains (`report` only; null for `train`).
    pub shortcut: Option<ShortcutSummary>,
    /// Total seconds.
    pub seconds: f64,
}

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

/// The shortcut section as tables and maps, made by [`Run::shortcut`].
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
    fn summary(&self) -> Result<ShortcutSummary> {
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

/// The pipeline that [`train`] and [`build`] share: scan, split (the one recipe,
/// [`split::split_checked`]), features (cached) and every model, each stage timed.
pub struct Run {
    /// The scanned dataset.
    pub dataset: load::Dataset,
    /// The image table with its `subset` column.
    pub images: polars::prelude::DataFrame,
    /// What the split's leak checks found.
    pub split_check: SplitCheck,
    /// The decoded features.
    pub features: decode::Features,
    /// The trained models and their scores.
    pub evaluation: train::Evaluation,
    /// The shortcut section, once [`Run::shortcut`] made it.
    pub shortcut: Option<Shortcut>,
    facts: Option<DataFrame>,
    stages: Stages,
    files: Vec<PathBuf>,
}

/// Runs the shared pipeline on the dataset at `root`.
pub fn run(root: impl AsRef<Path>, options: &ReportOptions) -> Result<Run> {
    options.train.check()?;
    options.decode.check()?;
    if options.pretrained && cfg!(not(feature = "pretrained")) {
        return Err(crate::Error::FeatureOff {
            feature: "pretrained",
            what: "ReportOptions::pretrained (`--pretrained`)".into(),
        });
    }
    let mut stages = Stages::new(options.progress);
    let dataset = stages.run("scan", || load::scan(root.as_ref()))?;
    let (images, split_check) = stages.run("split", || {
        split::split_checked(&dataset, options.split.as_deref(), &options.resplit)
    })?;
    let features = stages.run("features", || decode::features(&images, &options.decode))?;
    #[cfg_attr(not(feature = "pretrained"), allow(unused_mut))]
    let mut evaluation = stages.run("training and evaluation", || {
        train::evaluate(&features, &options.train)
    })?;
    #[cfg(feature = "pretrained")]
    if options.pretrained {
        let network = stages.run("pretrained network", crate::pretrained::Network::from_cache)?;
        let embeddings = stages.run("embeddings", || {
            decode::embeddings(&images, &network, &options.decode)
        })?;
        stages.run("training on embeddings", || {
            evaluation.add_pretrained(&embeddings, &options.train)
        })?;
    }
    Ok(Run {
        dataset,
        images,
        split_check,
        features,
        evaluation,
        shortcut: None,
        facts: None,
        stages,
        files: Vec::new(),
    })
}

impl Run {
    /// Writes `split.csv` and `models/*.json` into `out`.
    pub fn save_split_and_models(&mut self, out: &Path) -> Result<()> {
        let (images, root, evaluation) = (&self.images, &self.dataset.root, &self.evaluation);
        let files = self.stages.run("split file and models", || {
            let file = out.join("split.csv");
            split::write_split(images, root, &file)?;
            let mut files = vec![file];
            files.extend(evaluation.save_models(out.join("models"))?);
            Ok::<_, Error>(files)
        })?;
        self.files.extend(files);
        Ok(())
    }

    /// The shortcut section: the header facts per class, the test matched on width and height
    /// ([`shortcut::matched_test`], tolerance [`shortcut::DEFAULT_TOLERANCE`]) with every model
    /// on it, the pixel models trained again on size-blind features (decoded once, then
    /// cached) and scored the same way, and each pixel or file-facts model's occlusion maps
    /// averaged over [`OCCLUSION_IMAGES`] test images per class. Embedding models get no map
    /// (each covered image would cost a network run).
    pub fn shortcut(&mut self, facts: &DataFrame, options: &ReportOptions) -> Result<&Shortcut> {
        let mut stages = std::mem::replace(&mut self.stages, Stages::new(Progress::Quiet));
        let made = self.make_shortcut(facts, options, &mut stages);
        self.stages = stages;
        self.shortcut = Some(made?);
        Ok(self.shortcut.as_ref().expect("just made"))
    }

    fn make_shortcut(
        &self,
        facts: &DataFrame,
        options: &ReportOptions,
        stages: &mut Stages,
    ) -> Result<Shortcut> {
        let test = self.evaluation.subsets.test.clone();
        let (acquisition, matched, on_matched) = stages.run("shortcut: matched test", || {
            let acquisition = shortcut::acquisition(facts)?;
            let matched = shortcut::matched_test(facts, test.clone(), shortcut::DEFAULT_TOLERANCE)?;
            let on_matched = shortcut::on_matched(&self.evaluation, &matched)?;
            Ok::<_, Error>((acquisition, matched, on_matched))
        })?;
        let blind = stages.run("shortcut: size-blind features", || {
            decode::features(&self.images, &options.decode.clone().size_blind(true))
        })?;
        let size_blind_on_matched = stages.run("shortcut: size-blind models", || {
            let evaluation = train::evaluate(&blind, &options.train.clone().shortcut(false))?;
            shortcut::on_matched(&evaluation, &matched)
        })?;
        let maps = stages.run("shortcut: occlusion maps", || {
            self.evaluation
                .models
                .iter()
                .filter(|m| {
                    !matches!(
                        m.kind,
                        ModelKind::MajorityClass
                            | ModelKind::PretrainedLogistic
                            | ModelKind::PretrainedForest
                    )
                })
                .map(|m| {
                    occlusion::average_maps(
                        m,
                        &self.features,
                        test.clone(),
                        OCCLUSION_IMAGES,
                        OCCLUSION_PATCH.min(self.features.options().side() as usize),
                        OCCLUSION_STRIDE,
                    )
                })
                .collect::<Result<Vec<_>>>()
        })?;
        let regions = occlusion::regions_table(&maps)?;
        let mut matched_summary = crate::frame::fresh(&matched.summary()?);
        matched_summary
            .with_column(polars::prelude::Column::new(
                "tolerance".into(),
                [matched.tolerance],
            ))
            .ctx("the matched test's summary")?;
        Ok(Shortcut {
            acquisition,
            matched_summary,
            matched,
            on_matched,
            size_blind_on_matched,
            maps,
            regions,
        })
    }

    /// Every figure of the report, with its file stem, in the report's order ([`figures`]),
    /// then the shortcut section's two (`acquisition`, `occlusion_averages`) when
    /// [`Run::shortcut`] has run.
    pub fn figures(&mut self, decode: &DecodeOptions) -> Result<Vec<(&'static str, Figure)>> {
        let facts = self.facts(decode)?;
        let mut figures = self.figures_of(&facts)?;
        if let Some(shortcut) = &self.shortcut {
            figures.push(("acquisition", plot::acquisition(&shortcut.acquisition)?));
            figures.push((
                "occlusion_averages",
                plot::occlusion_averages(&shortcut.maps)?,
            ));
        }
        Ok(figures)
    }

    /// The image facts of the run's images, read once per run (from the facts cache after the
    /// first run).
    pub fn facts(&mut self, decode: &DecodeOptions) -> Result<DataFrame> {
        if let Some(facts) = &self.facts {
            return Ok(facts.clone());
        }
        let images = &self.images;
        let facts = self
            .stages
            .run("image facts", || facts::facts_in(images, decode.caches()))?;
        self.facts = Some(facts.clone());
        Ok(facts)
    }

    fn figures_of(&mut self, facts: &DataFrame) -> Result<Vec<(&'static str, Figure)>> {
        // The stages are set aside while the closure reads the rest of the run.
        let mut stages = std::mem::replace(&mut self.stages, Stages::new(Progress::Quiet));
        let run = &*self;
        let figures = stages.run("figures", || {
            figures(
                &run.dataset,
                &run.images,
                facts,
                &run.features,
                &run.evaluation,
            )
        });
        self.stages = stages;
        figures
    }

    /// Saves the figures (SVG and PNG) under `out/figures`, the three dashboards under
    /// `out/dashboards` and the page `out/report.html`.
    pub fn save_figures(&mut self, figures: &[(&'static str, Figure)], out: &Path) -> Result<()> {
        let files = self.stages.run("saving figures", || {
            let mut files = Vec::new();
            for (stem, figure) in figures {
                files.extend(figure.save(out.join("figures").join(stem))?);
            }
            Ok::<_, Error>(files)
        })?;
        self.files.extend(files);
        let (images, dataset, evaluation) = (&self.images, &self.dataset, &self.evaluation);
        let extra = self
            .shortcut
            .as_ref()
            .map(Shortcut::tables)
            .unwrap_or_default();
        let files = self.stages.run("dashboards and page", || {
            let mut files = Vec::new();
            for (stem, board) in plot::report_dashboards(figures)? {
                files.extend(board.save(out.join("dashboards").join(stem))?);
            }
            let page = page_with(dataset, images, evaluation, figures, &extra)?;
            let file = out.join("report.html");
            plot::save_page(&page, &file)?;
            files.push(file);
            Ok::<_, Error>(files)
        })?;
        self.files.extend(files);
        Ok(())
    }

    /// What was done, as `metrics.json` holds it.
    pub fn summary(&self) -> Result<Summary> {
        let counts = split::summary(&self.images)?;
        let subsets = crate::frame::strings(&counts, columns::SUBSET)?;
        let classes = crate::frame::strings(&counts, columns::CLASS)?;
        let numbers: Vec<u32> = crate::frame::column(&counts, "images")?
            .cast(&polars::prelude::DataType::UInt32)
            .ctx("reading counts")?
            .u32()
            .ctx("reading counts")?
            .iter()
            .map(|v| v.unwrap_or(0))
            .collect();
        let models = self
            .evaluation
            .models
            .iter()
            .map(|m| ModelRow {
                model: m.kind,
                file: PathBuf::from("models").join(format!("{}.json", m.file_stem())),
                threshold: m.threshold,
                fit_seconds: m.fit_seconds,
            })
            .collect();
        Ok(Summary {
            data: self.dataset.root.clone(),
            settings: self.features.options().key(),
            counts: subsets
                .into_iter()
                .zip(classes)
                .zip(numbers)
                .map(|((subset, class), images)| Count {
                    subset: Subset::from(subset),
                    class,
                    images,
                })
                .collect(),
            split_check: self.split_check.clone(),
            skipped: self
                .dataset
                .skipped
                .iter()
                .map(|s| SkippedFile {
                    path: s.path.clone(),
                    reason: s.reason.to_string(),
                })
                .collect(),
            rejects: self.features.rejects.clone(),
            models,
            metrics: ModelMetrics::of(&self.evaluation),
            ridge_path: self.evaluation.ridge_path.clone(),
            stages: self.stages.times().to_vec(),
            files: self.files.clone(),
            shortcut: self.shortcut.as_ref().map(Shortcut::summary).transpose()?,
            seconds: self.stages.seconds(),
        })
    }

    /// Writes the summary as `out/metrics.json` and returns it.
    pub fn save_summary(&mut self, out: &Path) -> Result<Summary> {
        let file = out.join("metrics.json");
        self.files.push(file.clone());
        let summary = self.summary()?;
        let json = serde_json::to_vec_pretty(&summary).map_err(|e| Error::Format {
            path: file.clone(),
            reason: format!("cannot encode the summary: {e}"),
        })?;
        crate::files::write_file(&file, &json)?;
        Ok(summary)
    }
}

/// What `xray-lab train` runs: the shared pipeline, then `split.csv`, `models/*.json` and
/// `metrics.json` in `out`.
pub fn train(
    root: impl AsRef<Path>,
    out: impl AsRef<Path>,
    options: &ReportOptions,
) -> Result<Summary> {
    let out = out.as_ref();
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let mut run = run(root, options)?;
    run.save_split_and_models(out)?;
    run.save_summary(out)
}

/// Runs the whole report on the dataset at `root`, writing into `out`: `figures/` (SVG and PNG),
/// `dashboards/` (the report's three, SVG and PNG), `report.html`, `split.csv`, `models/` and
/// `metrics.json`. A second run reuses the feature and file-facts caches.
pub fn build(
    root: impl AsRef<Path>,
    out: impl AsRef<Path>,
    options: &ReportOptions,
) -> Result<Summary> {
    let out = out.as_ref();
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let mut run = run(root, options)?;
    let facts = run.facts(&options.decode)?;
    run.shortcut(&facts, options)?;
    let figures = run.figures(&options.decode)?;
    run.save_figures(&figures, out)?;
    run.save_split_and_models(out)?;
    run.save_summary(out)
}

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
        ("images_per_subset", plot::images_per_subset(images)?),
        (
            "images_before_and_after",
            plot::compare_subsets(&[
                ("Kaggle folders", &dataset.images),
                ("after the resplit", images),
            ])?,
        ),
        ("classes_per_subset", plot::classes_per_subset(images)?),
        ("classes_stacked", plot::classes_stacked(images)?),
        ("subset_shares", plot::subset_shares(images)?),
        ("population_graph", plot::population_graph(images)?),
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
        ("color_legend", plot::color_legend()),
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
fn page_with(
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
