//! The pipeline `train` and `report` share, stage by stage, and what it saves.

use std::path::{Path, PathBuf};

use super::figures::{figures, page_with};
use super::options::ReportOptions;
use super::shortcut::{Shortcut, OCCLUSION_IMAGES, OCCLUSION_PATCH, OCCLUSION_STRIDE};
use super::summary::{Count, ModelMetrics, ModelRow, SkippedFile, SplitCheck, Summary};
use crate::columns;
use crate::decode::{self, DecodeOptions};
use crate::error::PolarsContext;
use crate::facts;
use crate::load;
use crate::plot::{self, Figure};
use crate::progress::{Progress, Stages};
use crate::subset::Subset;
use crate::train::{self, ModelKind};
use crate::{occlusion, shortcut, split, Error, Result};
use polars::prelude::DataFrame;

/// The pipeline that [`train`](super::train) and [`build`](super::build) share: scan, split
/// (the one recipe, [`split::split_checked`]), features (cached) and every model, each stage
/// timed.
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
