//! `xray-lab split`: the resplit, checked for leaks, written as a split file.

use std::path::PathBuf;

use clap::ArgAction;
use xray_lab::load;
use xray_lab::split::{self, Amount, ResplitOptions, ValFolder};

use super::args::parse_amount;
use super::print::print_split_check;
use super::CliResult;

#[derive(clap::Args)]
pub(crate) struct SplitArgs {
    /// The dataset root.
    #[arg(long, env = "XRAY_LAB_DATA")]
    data: PathBuf,
    /// The split file to write.
    #[arg(long)]
    out: PathBuf,
    /// Images moved from train to test: a count (1000) or a fraction (0.2). Default: the
    /// report's 1,000, or 1,000/5,216 of a smaller training split.
    #[arg(long, value_parser = parse_amount)]
    test: Option<Amount>,
    /// Images moved from train to a new validation subset: a count or a fraction. Default:
    /// the report's 2,000, or 2,000/5,216 of a smaller training split.
    #[arg(long, value_parser = parse_amount)]
    validation: Option<Amount>,
    /// The same seed gives the same split.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Keep the class ratio in every subset (on by default; `--stratify=false` turns it off).
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    stratify: bool,
    /// Keep each patient in one subset (on by default; `--by-patient=false` turns it off).
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    by_patient: bool,
    /// Keep the original val folder as its own subset instead of folding it into train.
    #[arg(long)]
    keep_val: bool,
}

impl SplitArgs {
    fn options(&self) -> ResplitOptions {
        let mut options = ResplitOptions::new()
            .seed(self.seed)
            .stratify(self.stratify)
            .by_patient(self.by_patient)
            .val_folder(if self.keep_val {
                ValFolder::Keep
            } else {
                ValFolder::Fold
            });
        if let Some(test) = self.test {
            options = options.test(test);
        }
        if let Some(validation) = self.validation {
            options = options.validation(validation);
        }
        options
    }

    pub(crate) fn run(self) -> CliResult {
        let dataset = load::scan(&self.data)?;
        // The one recipe: identical images under two names stay in one subset too, and the
        // result is checked for leaks before it is written.
        let start = std::time::Instant::now();
        let (images, check) = split::split_checked(&dataset, None, &self.options())?;
        let seconds = start.elapsed().as_secs_f64();
        split::write_split(&images, &dataset.root, &self.out)?;
        println!("{}", split::summary(&images)?);
        print_split_check(&check);
        println!(
            "wrote {} ({} images; no path, file content or patient in two subsets) in {:.0} ms (content hashes cached per file)",
            self.out.display(),
            images.height(),
            seconds * 1e3
        );
        Ok(())
    }
}
