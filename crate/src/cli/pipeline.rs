//! `xray-lab report` and `xray-lab train`: the library's whole pipeline, and its training part.

use std::path::PathBuf;

use xray_lab::decode::Progress;
use xray_lab::report::ReportOptions;
use xray_lab::split::ResplitOptions;
use xray_lab::subset::Subset;
use xray_lab::train::TrainOptions;

use super::args::{check_writable, DataArgs, DecodeArgs, JsonArg};
use super::print::{print_shortcut, print_split_check, print_train};
use super::CliResult;

/// What `report` and `train` share: one seed for the split, the tree and the forest.
#[derive(clap::Args)]
pub(crate) struct PipelineArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The folder to write into.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    decode: DecodeArgs,
    /// Seed of the split, the tree and the forest (the same seed gives the same split as
    /// `xray-lab split --seed`).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Also train logistic regression and a random forest on EfficientNet-Lite0 embeddings
    /// (the same split; in the same table). About 70 s more for 5,856 images the first time.
    #[arg(long)]
    pretrained: bool,
}

impl PipelineArgs {
    fn options(&self, progress: Progress) -> ReportOptions {
        ReportOptions {
            split: self.data.split.clone(),
            resplit: ResplitOptions::new().seed(self.seed),
            decode: self.decode.options().progress(progress),
            train: TrainOptions::new().seed(self.seed),
            progress,
            pretrained: self.pretrained,
        }
    }
}

#[derive(clap::Args)]
pub(crate) struct ReportArgs {
    #[command(flatten)]
    pipeline: PipelineArgs,
}

impl ReportArgs {
    pub(crate) fn run(self) -> CliResult {
        let (data, out) = (&self.pipeline.data.data, &self.pipeline.out);
        check_writable(&out.join("metrics.json"))?;
        let summary = xray_lab::report::build(data, out, &self.pipeline.options(Progress::Auto))?;
        println!("images per subset and class:");
        for c in &summary.counts {
            println!("  {:<11} {:<10} {:>6}", c.subset, c.class, c.images);
        }
        print_split_check(&summary.split_check);
        for s in &summary.skipped {
            println!("  skipped {}: {}", s.path.display(), s.reason);
        }
        for r in &summary.rejects {
            println!("  skipped {}: {}", r.path.display(), r.reason);
        }
        println!("test set:");
        for m in summary.metrics.iter().filter(|m| m.subset == Subset::Test) {
            println!(
                "  {:<31} accuracy {:.3}  recall {:.3}  specificity {:.3}  ROC AUC {:.3}",
                m.model.name(),
                m.metrics.accuracy,
                m.metrics.recall,
                m.metrics.specificity,
                m.metrics.roc_auc
            );
        }
        if let Some(shortcut) = &summary.shortcut {
            print_shortcut(shortcut);
        }
        let out = out.display();
        println!(
            "{} files in {:.1} s. Look at {out}/report.html, {out}/dashboards/, {out}/figures/, {out}/metrics.json",
            summary.files.len(),
            summary.seconds,
        );
        Ok(())
    }
}

#[derive(clap::Args)]
pub(crate) struct TrainArgs {
    #[command(flatten)]
    pipeline: PipelineArgs,
    #[command(flatten)]
    output: JsonArg,
}

impl TrainArgs {
    pub(crate) fn run(self) -> CliResult {
        let (data, out) = (&self.pipeline.data.data, &self.pipeline.out);
        check_writable(&out.join("metrics.json"))?;
        let options = self.pipeline.options(self.output.progress());
        let summary = xray_lab::report::train(data, out, &options)?;
        if self.output.json {
            println!("{}", serde_json::to_string_pretty(&summary)?);
        } else {
            print_train(&summary, out);
        }
        Ok(())
    }
}
