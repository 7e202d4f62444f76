//! The result of an evaluation: its tables, its lookups, and the pretrained models added to it.

use std::path::Path;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::kind::ModelKind;
use super::metrics::{self, Metrics, RocPoint};
use super::model::{Estimator, Input, Model};
use super::samples::Samples;
use super::studies::comparison_table;
use crate::columns;
use crate::decode::DecodeOptions;
use crate::error::PolarsContext;
use crate::subset::{Splits, Subset};
use crate::{frame, Error, Result};
// What `Evaluation::add_pretrained` (cargo feature `pretrained`) uses besides.
#[cfg(feature = "pretrained")]
use {
    super::linear::LogisticRegression, super::options::TrainOptions, super::samples::pixel_samples,
    super::tree::RandomForest, crate::decode::Features, std::time::Instant,
};

/// Every model's metrics on one subset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    /// The model.
    pub model: ModelKind,
    /// What it read.
    pub features: String,
    /// The subset scored.
    pub subset: Subset,
    /// Its metrics there.
    pub metrics: Metrics,
    /// The ROC curve there.
    pub roc: Vec<RocPoint>,
    /// Each image's score and label, for score histograms.
    pub scores: Vec<(f64, u32)>,
    /// Each image's path, in the order of `scores` (not saved: a subset of the scores, such as
    /// the matched test of [`crate::shortcut`], is chosen by path).
    #[serde(skip)]
    pub paths: Vec<String>,
}

/// The result of [`evaluate`](super::evaluate): the models and their scores on every subset.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The trained models, in the order of the table.
    pub models: Vec<Model>,
    /// One entry per model and subset.
    pub results: Vec<Scored>,
    /// The report's model's penalty search: `(alpha, validation RMSE)`.
    pub ridge_path: Vec<(f64, f64)>,
    /// Images per subset used: train, validation, test.
    pub sizes: Splits<usize>,
    /// The subsets those are: train, validation, test.
    pub subsets: Splits<Subset>,
    /// Seconds the whole evaluation took.
    pub seconds: f64,
}

/// Scores each fitted model on train, validation and test, chooses its threshold on
/// validation, and keeps the model and its results.
pub(super) struct Scorer<'a> {
    pub(super) names: Splits<&'a Subset>,
    pub(super) decode: DecodeOptions,
    pub(super) models: Vec<Model>,
    pub(super) results: Vec<Scored>,
}

impl Scorer<'_> {
    pub(super) fn add(
        &mut self,
        kind: ModelKind,
        estimator: Estimator,
        input: Input,
        data: &Splits<Samples>,
        fit_seconds: f64,
    ) -> Result<()> {
        let scores = data.as_ref().try_map(|x| estimator.scores(x))?;
        let threshold = metrics::best_threshold(&scores.validation, &data.validation.y)?;
        for ((x, s), subset) in data.iter().zip(scores.iter()).zip(self.names.iter()) {
            self.results.push(Scored {
                model: kind,
                features: input.describe(&self.decode),
                subset: (*subset).clone(),
                metrics: Metrics::new(s, &x.y, threshold)?,
                roc: metrics::roc_curve(s, &x.y)?,
                scores: s.iter().copied().zip(x.y.iter().copied()).collect(),
                paths: x.paths.clone(),
            });
        }
        self.models.push(Model {
            kind,
            estimator,
            input,
            decode: self.decode.clone(),
            threshold,
            fit_seconds,
        });
        Ok(())
    }
}

/// The penalties logistic regression on embeddings chooses from on validation (standardized
/// embeddings; `λ` of `mean log-loss + λ/2 ‖w‖²`).
#[cfg(feature = "pretrained")]
pub(super) const PRETRAINED_PENALTIES: [f64; 5] = [1e-4, 1e-3, 1e-2, 1e-1, 1.0];

impl Evaluation {
    /// Adds two models on a pretrained network's embeddings of the same images
    /// ([`crate::decode::embeddings`], on the same split) to the evaluation: logistic regression
    /// (standardized embeddings, its penalty chosen on validation by ROC AUC) and a random forest
    /// (the options' forest settings, [`TrainOptions::forest`](super::TrainOptions::forest)),
    /// each with its threshold chosen on validation and scored on train, validation and test
    /// like the others, so they join the same tables and figures.
    ///
    /// Needs the cargo feature `pretrained`.
    ///
    /// ```no_run
    /// use xray_lab::prelude::*;
    /// let images = split::default_split(&load::scan(data_root()?)?)?;
    /// let mut evaluation = train::evaluate(&decode::features(&images, &DecodeOptions::new())?, &TrainOptions::new())?;
    /// let network = pretrained::Network::from_cache()?;
    /// let embeddings = decode::embeddings(&images, &network, &DecodeOptions::new())?;
    /// evaluation.add_pretrained(&embeddings, &TrainOptions::new())?;
    /// # Ok::<(), xray_lab::Error>(())
    /// ```
    #[cfg(feature = "pretrained")]
    #[cfg_attr(docsrs, doc(cfg(feature = "pretrained")))]
    pub fn add_pretrained(&mut self, embeddings: &Features, options: &TrainOptions) -> Result<()> {
        let Some(network) = embeddings.network() else {
            return Err(Error::Incompatible {
                what: "add_pretrained".into(),
                reason: "it takes embeddings (decode::embeddings); these are pixels".into(),
            });
        };
        let options = options.check()?;
        let start = Instant::now();
        let subsets = self.subsets.clone();
        let names = subsets.as_ref();
        let x = pixel_samples(embeddings, names)?;
        let mut scorer = Scorer {
            names,
            decode: embeddings.options().clone(),
            models: Vec::new(),
            results: Vec::new(),
        };
        let input = Input::Embedding {
            network: network.to_string(),
        };
        let t = Instant::now();
        let mut best: Option<(f64, LogisticRegression)> = None;
        for penalty in PRETRAINED_PENALTIES {
            let parameters = (**options.logistic())
                .clone()
                .with_standardize(true)
                .with_penalty(penalty);
            let model = LogisticRegression::fit(&x.train, &parameters)?;
            let auc = metrics::roc_auc(&model.predict_proba(&x.validation)?, x.validation.y())?;
            if best.as_ref().is_none_or(|(b, _)| auc > *b) {
                best = Some((auc, model));
            }
        }
        let (_, logistic) = best.expect("PRETRAINED_PENALTIES is not empty");
        scorer.add(
            ModelKind::PretrainedLogistic,
            Estimator::Logistic(logistic),
            input.clone(),
            &x,
            t.elapsed().as_secs_f64(),
        )?;
        let t = Instant::now();
        let forest = RandomForest::fit_checked(&x.train, options.forest())?;
        scorer.add(
            ModelKind::PretrainedForest,
            Estimator::Forest(forest),
            input,
            &x,
            t.elapsed().as_secs_f64(),
        )?;
        self.models.extend(scorer.models);
        self.results.extend(scorer.results);
        self.seconds += start.elapsed().as_secs_f64();
        Ok(())
    }

    /// The metrics of one subset, one row per model, with the columns a reader compares
    /// (`model`, `features`, `accuracy`, `precision`, `recall`, `specificity`, `f1`,
    /// `roc_auc`, `rmse`, `fit_seconds`). An evaluation at the end of a notebook cell shows
    /// this table for its test subset.
    pub fn table(&self, subset: impl Into<Subset>) -> Result<DataFrame> {
        let subset = subset.into();
        let rows: Vec<&Scored> = self.results.iter().filter(|r| r.subset == subset).collect();
        if rows.is_empty() {
            return Err(Error::NotFound {
                kind: "scored subset",
                name: subset.to_string(),
                known: self
                    .subsets
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let fit = |kind: ModelKind| {
            self.models
                .iter()
                .find(|m| m.kind == kind)
                .map(|m| m.fit_seconds)
                .unwrap_or(f64::NAN)
        };
        comparison_table(rows.iter().map(|s| {
            (
                s.model.name(),
                s.features.as_str(),
                &s.metrics,
                fit(s.model),
            )
        }))
    }

    /// evcxr's display hook: [`table`](Self::table) on the test subset.
    pub fn evcxr_display(&self) {
        crate::frame::show(self.table(self.subsets.test.clone()))
    }

    /// One row per model and subset: `model`, `features`, `subset`, `images`, `rmse`, `r2`,
    /// `threshold`, `accuracy`, `precision`, `recall`, `specificity`, `f1`, `roc_auc`, and the
    /// confusion counts `tn`, `fp`, `fn`, `tp`.
    pub fn metrics_frame(&self) -> Result<DataFrame> {
        let r = &self.results;
        let f = |g: &dyn Fn(&Metrics) -> f64| r.iter().map(|s| g(&s.metrics)).collect::<Vec<f64>>();
        let u = |g: &dyn Fn(&Metrics) -> usize| {
            r.iter().map(|s| g(&s.metrics) as u32).collect::<Vec<u32>>()
        };
        let df = df!(
            "model" => r.iter().map(|s| s.model.name()).collect::<Vec<_>>(),
            "features" => r.iter().map(|s| s.features.as_str()).collect::<Vec<_>>(),
            columns::SUBSET => r.iter().map(|s| s.subset.name()).collect::<Vec<_>>(),
            "images" => u(&|m| m.images),
            "rmse" => f(&|m| m.rmse),
            "r2" => f(&|m| m.r2),
            "threshold" => f(&|m| m.threshold),
            "accuracy" => f(&|m| m.accuracy),
            "precision" => f(&|m| m.precision),
            "recall" => f(&|m| m.recall),
            "specificity" => f(&|m| m.specificity),
            "f1" => f(&|m| m.f1),
            "roc_auc" => f(&|m| m.roc_auc),
            "tn" => u(&|m| m.confusion.tn),
            "fp" => u(&|m| m.confusion.fp),
            "fn" => u(&|m| m.confusion.fn_),
            "tp" => u(&|m| m.confusion.tp),
        )
        .ctx("building the metrics table")?;
        Ok(frame::fresh(&df))
    }

    /// The ROC curves: `model`, `subset`, `threshold`, `fpr`, `tpr`, a row per point.
    pub fn roc_frame(&self) -> Result<DataFrame> {
        let points = self
            .results
            .iter()
            .flat_map(|s| s.roc.iter().map(move |p| (s, p)));
        let (mut model, mut subset, mut threshold, mut fpr, mut tpr) =
            (vec![], vec![], vec![], vec![], vec![]);
        for (s, p) in points {
            model.push(s.model.name());
            subset.push(s.subset.name());
            threshold.push(p.threshold);
            fpr.push(p.fpr);
            tpr.push(p.tpr);
        }
        let df = df!("model" => model, columns::SUBSET => subset, "threshold" => threshold, "fpr" => fpr, "tpr" => tpr)
            .ctx("building the ROC table")?;
        Ok(frame::fresh(&df))
    }

    /// The report's model's penalty search: `alpha`, `validation_rmse`.
    pub fn ridge_path_frame(&self) -> Result<DataFrame> {
        let df = df!(
            "alpha" => self.ridge_path.iter().map(|p| p.0).collect::<Vec<_>>(),
            "validation_rmse" => self.ridge_path.iter().map(|p| p.1).collect::<Vec<_>>(),
        )
        .ctx("building the penalty table")?;
        Ok(frame::fresh(&df))
    }

    /// The scores of `model` on `subset` (`"test"` or [`Subset::Test`]); an error names what
    /// is missing (the shortcut checks are off, or the subset was not scored).
    pub fn result(&self, model: ModelKind, subset: impl Into<Subset>) -> Result<&Scored> {
        let subset = subset.into();
        self.model(model)?;
        self.results
            .iter()
            .find(|s| s.model == model && s.subset == subset)
            .ok_or_else(|| Error::Incompatible {
                what: model.to_string(),
                reason: format!(
                    "it was not scored on subset {subset:?}; the subsets are {}",
                    self.subsets
                        .iter()
                        .map(Subset::name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
    }

    /// What each model costs when a missed PNEUMONIA costs `missed` and a false alarm
    /// `false_alarm`: its cheapest threshold on validation ([`metrics::cheapest_threshold`]),
    /// the cost per image there, and the cost per image on test at that same threshold. Columns
    /// `model`, `features` (what it reads), `threshold`, `validation cost`, `test cost`, cheapest
    /// on validation first (pick on validation; test says what to expect).
    pub fn costs(&self, missed: f64, false_alarm: f64) -> Result<DataFrame> {
        let mut rows: Vec<(String, String, f64, f64, f64)> = Vec::new();
        for model in &self.models {
            let split = |subset: &Subset| -> Result<(Vec<f64>, Vec<u32>)> {
                Ok(self
                    .result(model.kind, subset.clone())?
                    .scores
                    .iter()
                    .copied()
                    .unzip())
            };
            let (scores, labels) = split(&self.subsets.validation)?;
            let (threshold, cost) =
                metrics::cheapest_threshold(&scores, &labels, missed, false_alarm)?;
            let (scores, labels) = split(&self.subsets.test)?;
            let test = metrics::cost_per_image(&scores, &labels, threshold, missed, false_alarm);
            let features = self
                .result(model.kind, self.subsets.test.clone())?
                .features
                .clone();
            rows.push((model.kind.to_string(), features, threshold, cost, test));
        }
        rows.sort_by(|a, b| a.3.total_cmp(&b.3));
        let df = df!(
            "model" => rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
            "features" => rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
            "threshold" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            "validation cost" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            "test cost" => rows.iter().map(|r| r.4).collect::<Vec<_>>(),
        )
        .ctx("building the cost table")?;
        Ok(frame::fresh(&df))
    }

    /// The trained `model`; an error when it was not trained (the shortcut checks are off).
    pub fn model(&self, model: ModelKind) -> Result<&Model> {
        self.models
            .iter()
            .find(|m| m.kind == model)
            .ok_or_else(|| Error::Incompatible {
                what: model.to_string(),
                reason: format!(
                    "it was not trained here (the shortcut checks need \
                     TrainOptions::shortcut(true)); the models are {}",
                    self.models
                        .iter()
                        .map(|m| m.kind.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
    }

    /// Save every model as `<dir>/<name>.json`; returns the files.
    pub fn save_models(&self, dir: impl AsRef<Path>) -> Result<Vec<std::path::PathBuf>> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        self.models
            .iter()
            .map(|m| {
                let file = dir.join(format!("{}.json", m.file_stem()));
                m.save(&file).map(|_| file)
            })
            .collect()
    }
}
