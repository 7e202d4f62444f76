//! `xray-lab synth`: the synthetic dataset.

use std::path::PathBuf;

use xray_lab::synth::{SynthOptions, DEFAULT_SEED};

use super::CliResult;

#[derive(clap::Args)]
pub(crate) struct SynthArgs {
    /// The folder to write (it will hold train/, test/ and val/).
    #[arg(long)]
    out: PathBuf,
    /// 1 gives the Kaggle counts (5,856 images); 0.05 gives about 300.
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// The same seed gives the same bytes.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// Save every file as a plain JFIF at quality 85, so that no header tells the class
    /// (the Kaggle acquisition pattern, written by default, off).
    #[arg(long)]
    plain_headers: bool,
    /// Keep a finished dataset already in `--out` when the same settings and this version
    /// of the generator made it; otherwise write it (as without this flag).
    #[arg(long)]
    ensure: bool,
}

impl SynthArgs {
    pub(crate) fn run(self) -> CliResult {
        let options = SynthOptions::new()
            .scale(self.scale)
            .seed(self.seed)
            .acquisition(!self.plain_headers);
        let out = &self.out;
        if self.ensure && options.is_written_in(out) {
            println!(
                "kept the dataset already in {} (the same settings and generator version made it)",
                out.display()
            );
            return Ok(());
        }
        let summary = options.write(out)?;
        println!(
            "wrote {} images ({:.1} MB) and {} other files to {} in {:.1} s",
            summary.images,
            summary.bytes as f64 / 1e6,
            summary.other_files,
            out.display(),
            summary.seconds
        );
        Ok(())
    }
}
