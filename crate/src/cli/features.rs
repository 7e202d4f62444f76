//! `xray-lab features` and `xray-lab embed`: a row per image, written as an Arrow IPC file.

use std::path::{Path, PathBuf};

use polars::prelude::DataFrame;
use xray_lab::decode::{self, DecodeOptions, Features};
use xray_lab::{load, split};

use super::args::{check_writable, DataArgs, DecodeArgs, JsonArg};
use super::print::FeaturesReport;
use super::CliResult;

#[derive(clap::Args)]
pub(crate) struct FeaturesArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The feature file to write (Arrow IPC, e.g. features.arrow).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    decode: DecodeArgs,
    /// Neither read nor update the feature cache.
    #[arg(long)]
    no_cache: bool,
    #[command(flatten)]
    output: JsonArg,
}

impl FeaturesArgs {
    pub(crate) fn run(self) -> CliResult {
        let options = self.decode.options();
        rows(
            &self.data,
            &self.out,
            options,
            self.no_cache,
            &self.output,
            decode::features,
        )
    }
}

#[derive(clap::Args)]
pub(crate) struct EmbedArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The embedding file to write (Arrow IPC, e.g. embeddings.arrow).
    #[arg(long)]
    out: PathBuf,
    /// The weight file (default: where the set-up puts it, under the cache folder).
    #[arg(long)]
    weights: Option<PathBuf>,
    /// Decode JPEGs at full resolution (no DCT-domain downscaling).
    #[arg(long)]
    exact: bool,
    /// Neither read nor update the cache.
    #[arg(long)]
    no_cache: bool,
    #[command(flatten)]
    output: JsonArg,
}

impl EmbedArgs {
    /// `features` with the pretrained network's embeddings as the rows.
    #[cfg(feature = "pretrained")]
    pub(crate) fn run(self) -> CliResult {
        use xray_lab::pretrained::{weights_path, Network};
        let network = Network::load(self.weights.clone().unwrap_or_else(weights_path))?;
        let options = DecodeOptions::new().exact(self.exact);
        rows(
            &self.data,
            &self.out,
            options,
            self.no_cache,
            &self.output,
            |images, o| decode::embeddings(images, &network, o),
        )
    }

    /// A build without the network says how to get one.
    #[cfg(not(feature = "pretrained"))]
    pub(crate) fn run(self) -> CliResult {
        Err(xray_lab::Error::FeatureOff {
            feature: "pretrained",
            what: "`xray-lab embed`".into(),
        }
        .into())
    }
}

/// `features`, or `embed` (`compute` makes the rows).
fn rows(
    data: &DataArgs,
    out: &Path,
    decode: DecodeOptions,
    no_cache: bool,
    output: &JsonArg,
    compute: impl FnOnce(&DataFrame, &DecodeOptions) -> xray_lab::Result<Features>,
) -> CliResult {
    let dataset = load::scan(&data.data)?;
    let mut images = dataset.images.clone();
    if let Some(file) = &data.split {
        images = split::read_split(&images, &dataset.root, file)?;
    }
    check_writable(out)?;
    let options = decode.cache(!no_cache).progress(output.progress());
    let features = compute(&images, &options)?;
    features.save(out)?;
    let report = FeaturesReport::new(&features, &images, out)?;
    if output.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        report.print();
    }
    Ok(())
}
