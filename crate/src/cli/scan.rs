//! `xray-lab scan`: counts per split and class, and what was skipped.

use xray_lab::load;
use xray_lab::split;

use super::args::{DataArgs, JsonArg};
use super::print::ScanReport;
use super::CliResult;

#[derive(clap::Args)]
pub(crate) struct ScanArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    output: JsonArg,
}

impl ScanArgs {
    pub(crate) fn run(self) -> CliResult {
        let mut dataset = load::scan(&self.data.data)?;
        if let Some(file) = &self.data.split {
            dataset.images = split::read_split(&dataset.images, &dataset.root, file)?;
        }
        let report = ScanReport::new(&dataset)?;
        if self.output.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            report.print();
        }
        Ok(())
    }
}
