//! Progress: how long work shows how far it got. The caller chooses ([`Progress`]); the
//! library only ever writes progress to stderr, so stdout stays the caller's (a `--json`
//! document, a table).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How long work shows its progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Progress {
    /// A bar on a terminal, else a line at every 10% (what a notebook shows).
    #[default]
    Auto,
    /// Nothing.
    Quiet,
    /// A line at every 10%, on stderr.
    Lines,
    /// An animated bar on stderr (indicatif).
    Bar,
}

/// Counts finished work and shows it: a bar on a terminal, a line per 10% elsewhere.
pub(crate) struct Reporter {
    total: usize,
    done: AtomicUsize,
    bar: Option<indicatif::ProgressBar>,
    lines: bool,
    what: &'static str,
}

impl Reporter {
    pub(crate) fn new(total: usize, progress: Progress, what: &'static str) -> Self {
        let progress = match progress {
            Progress::Auto if std::io::stderr().is_terminal() => Progress::Bar,
            Progress::Auto => Progress::Lines,
            other => other,
        };
        let bar = (progress == Progress::Bar && total > 0).then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg} {bar:40} {pos}/{len} images, {per_sec}, {eta} left",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.set_message(what);
            bar
        });
        Reporter {
            total,
            done: AtomicUsize::new(0),
            bar,
            lines: progress == Progress::Lines && total >= 200,
            what,
        }
    }

    pub(crate) fn tick(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(bar) = &self.bar {
            bar.inc(1);
        } else if self.lines {
            let step = self.total.div_ceil(10);
            if done.is_multiple_of(step) || done == self.total {
                eprintln!("{} {done}/{} images", self.what, self.total);
            }
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Runs named stages one after the other, timing each and, unless the caller chose
/// [`Progress::Quiet`], saying on stderr when each starts and how long it took.
pub(crate) struct Stages {
    start: std::time::Instant,
    times: Vec<(String, f64)>,
    show: bool,
}

impl Stages {
    pub(crate) fn new(progress: Progress) -> Self {
        Stages {
            start: std::time::Instant::now(),
            times: Vec::new(),
            show: progress != Progress::Quiet,
        }
    }

    pub(crate) fn run<T, E>(
        &mut self,
        name: &str,
        work: impl FnOnce() -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        if self.show {
            eprintln!("== {name}");
        }
        let t = std::time::Instant::now();
        let out = work()?;
        let seconds = t.elapsed().as_secs_f64();
        if self.show {
            eprintln!("   {name}: {seconds:.2} s");
        }
        self.times.push((name.to_string(), seconds));
        Ok(out)
    }

    /// Seconds per stage, in order.
    pub(crate) fn times(&self) -> &[(String, f64)] {
        &self.times
    }

    /// Seconds since the first stage started.
    pub(crate) fn seconds(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }
}
