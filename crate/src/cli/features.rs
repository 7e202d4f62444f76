//! `xray-lab features` and `xray-lab embed`: a row per image, written as an Arrow IPC file.

use std::path::PathBuf;

use polars::prelude::DataFrame;
use xray_lab::decode::{self, DecodeOptions, Features};
use xray_lab::{load, split};

use super::args::{check_writable, DataArgs, DecodeArgs, JsonArg};
use super::print::FeaturesReport;
use super::CliResult;

/// What `features` and `embed` share: where the images are, the file to write, the cache, the
/// output format.
#[derive(clap::Args)]
pub(crate) struct RowsArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The file to write (Arrow IPC, e.g. features.arrow or embeddings.arrow).
    #[arg(long)]
    out: PathBuf,
    /// Neither read nor update the cache.
    #[arg(long)]
    no_cache: bool,
    #[command(flatten)]
    output: JsonArg,
}

#[derive(clap::Args)]
pub(crate) struct FeaturesArgs {
    #[command(flatten)]
    rows: RowsArgs,
    #[command(flatten)]
    decode: DecodeArgs,
}

impl FeaturesArgs {
    pub(crate) fn run(self) -> CliResult {
        rows(&self.rows, self.decode.options(), decode::features)
    }
}

#[derive(clap::Args)]
pub(crate) struct EmbedArgs {
    #[command(flatten)]
    rows: RowsArgs,
    /// The weight file (default: where the set-up puts it, under the cache folder).
    #[arg(long)]
    weights: Option<PathBuf>,
    /// Decode JPEGs at full resolution (no DCT-domain downscaling).
    #[arg(long)]
    exact: bool,
}

impl EmbedArgs {
    /// `features` with the pretrained network's embeddings as the rows.
    #[cfg(feature = "pretrained")]
    pub(crate) fn run(self) -> CliResult {
        use xray_lab::pretrained::{weights_path, Network};
        let network = Network::load(self.weights.clone().unwrap_or_else(weights_path))?;
        let options = DecodeOptions::new().exact(self.exact);
        rows(&self.rows, options, |images, o| {
            decode::embeddings(images, &network, o)
        })
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
    args: &RowsArgs,
    decode: DecodeOptions,
    compute: impl FnOnce(&DataFrame, &DecodeOptions) -> xray_lab::Result<Features>,
) -> CliResult {
    let RowsArgs {
        data,
        out,
        no_cache,
        output,
    } = args;
    let dataset = load::scan(&data.data)?;
    let mut images = dataset.images.clone();
    if let Some(file) = &data.split {
        images = split::read_split(&images, &dataset.root, file)?;
    }
    check_writable(out)?;
    let options = decode.cache(!*no_cache).progress(output.progress());
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
