//! Every notebook in `notebooks/` and `notebooks/answers/` executes headless with the real evcxr
//! kernel, on a small synthetic dataset and on the 16 real X-rays, and fails on any cell error;
//! the worked answers must pass every self-check of the course (`xray_lab::course`).
//!
//! The kernels are started as Jupyter starts them for a student: through the `xray-lab` kernel
//! spec (`scripts/kernel.py`), each in a build folder of its own seeded from the prebuilt one,
//! and two at a time (the two datasets run side by side), as when a student has two notebooks
//! open. A first check starts one kernel through jupyter_client and proves that it used the
//! seed's build of the crate instead of compiling it again. The course's notebooks share one
//! kernel per dataset, and the answers another, with evcxr's `:clear` between notebooks.
//!
//! Needs `jupyter` (nbconvert), the evcxr kernel and the prepared `xray-lab` kernel;
//! `scripts/test` sets up all three. On a machine without them this test fails with a message
//! saying so; set `XRAY_LAB_SKIP_NOTEBOOKS=1` to skip it on purpose (the skip is printed).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The notebooks of one folder, in order: the course's (`notebooks/`) or their worked answers
/// (`notebooks/answers/`).
fn notebooks_in(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ipynb"))
        .collect();
    found.sort();
    found
}

fn repo() -> PathBuf {
    common::crate_dir().join("..")
}

#[test]
fn every_notebook_runs_headless_on_a_small_synthetic_dataset_and_on_real_x_rays() {
    if std::env::var_os("XRAY_LAB_SKIP_NOTEBOOKS").is_some_and(|v| v == "1") {
        eprintln!("XRAY_LAB_SKIP_NOTEBOOKS=1: notebooks NOT executed");
        return;
    }
    let kernels = Command::new("jupyter")
        .args(["kernelspec", "list"])
        .output();
    match kernels {
        Ok(out) if String::from_utf8_lossy(&out.stdout).contains("xray-lab") => {}
        _ => panic!("jupyter with the `xray-lab` kernel is needed: run scripts/test (it sets up both), or set XRAY_LAB_SKIP_NOTEBOOKS=1"),
    }
    // A kernel started as Jupyter starts it must find the crate built: `check` fails when the
    // kernel's `xray_lab` is not the seed's (a hard link to it) or when it was compiled again.
    let check = Command::new("python3")
        .arg(repo().join("scripts/kernel.py"))
        .arg("check")
        .status()
        .unwrap();
    assert!(
        check.success(),
        "a new xray-lab kernel compiled the crate again instead of using the seed (see above)"
    );

    let tmp = tempfile::tempdir().unwrap();
    let data = common::course_dataset(&tmp.path().join("data"));
    // The 16 real X-rays: one folder per class and no split folders, real files' sizes and
    // encodings; each notebook must run on them as it is, from its own environment variable.
    let real = common::real_sample();
    // Two kernels at a time, each in its own build folder, as two open notebooks are.
    let synthetic_work = tmp.path().join("synthetic");
    let real_work = tmp.path().join("real");
    std::thread::scope(|scope| {
        let on_synthetic = scope.spawn(|| execute_every_notebook(&data, &synthetic_work));
        let on_real = scope.spawn(|| execute_every_notebook(&real, &real_work));
        let failures: Vec<String> = [on_synthetic.join(), on_real.join()]
            .into_iter()
            .filter_map(|r| r.err())
            .map(|e| {
                e.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            })
            .collect();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    });
}

/// Executes every notebook on `data` into `work/out` (its own cache in `work/cache`) and checks
/// that no cell failed, that each showed a figure, and that the figures and page were saved.
fn execute_every_notebook(data: &Path, work: &Path) {
    let out = work.join("out");
    let course = notebooks_in(&common::crate_dir().join("../notebooks"));
    let answers = notebooks_in(&common::crate_dir().join("../notebooks/answers"));
    assert!(!course.is_empty());
    assert!(
        answers.len() >= course.len(),
        "every notebook has its answers in notebooks/answers/"
    );
    // The course in one kernel and the answers in another, started as Jupyter starts them,
    // with evcxr's `:clear` between notebooks (`kernel.py execute`): a new child process with
    // nothing defined, so each notebook runs as in a new kernel, without paying evcxr's ~30 s
    // of rust-analyzer start-up twelve times. (`scripts/run` gives each notebook a new kernel.)
    let runs = [
        (course, out.clone(), false),
        (answers, out.join("answers"), true),
    ];
    for (notebooks, run_out, are_answers) in runs {
        let names: Vec<String> = notebooks
            .iter()
            .map(|nb| nb.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        eprintln!("executing {} on {}", names.join(", "), data.display());
        let status = Command::new("python3")
            .arg(repo().join("scripts/kernel.py"))
            .arg("execute")
            .arg("--out")
            .arg(&run_out)
            .args(&notebooks)
            .env("XRAY_LAB_DATA", data)
            .env("XRAY_LAB_OUT", out.join("figures"))
            .env("XRAY_LAB_CACHE", work.join("cache"))
            .env_remove("EVCXR_TMPDIR")
            .env_remove("XRAY_LAB_SPLIT")
            .status()
            .unwrap();
        assert!(
            status.success(),
            "{} failed to execute on {} (see the cell error above)",
            names.join(", "),
            data.display()
        );
        for name in names {
            check_executed(&run_out.join(&name), &name, are_answers);
        }
    }
    // The notebooks saved their figures in both formats.
    let figures = [
        "01_real_xrays",
        "01_images_per_subset",
        "02_classes_per_subset",
        "02_leaks_between_subsets",
        "03_image_sizes",
        "04_intensity_histograms",
        "04_sample_grid",
        "04_decoding_difference",
        "05_penalty_path",
        "05_confusion_matrices",
        "05_roc_curves",
        "05_roc_sweep",
        "05_score_histograms",
        "05_coefficients",
        "06_dashboard_simple",
        "06_dashboard_proportions",
        "06_dashboard_complete",
        "08_acquisition",
        "08_occlusion_map",
        "08_occlusion_averages",
    ];
    for (stem, ext) in figures.iter().flat_map(|s| [(s, "svg"), (s, "png")]) {
        let file = out.join("figures").join(format!("{stem}.{ext}"));
        assert!(
            std::fs::metadata(&file)
                .map(|m| m.len() > 1000)
                .unwrap_or(false),
            "{} missing",
            file.display()
        );
    }
    let page = std::fs::read_to_string(out.join("figures/06_report.html")).unwrap();
    assert!(page.contains("<table>") && page.matches("<svg").count() >= 7);

    // One source of truth: `xray-lab report` on the same data makes the same figures and
    // dashboards as notebook 06 (both call report::figures and plot::report_dashboards).
    let report = work.join("report");
    let run = Command::new(env!("CARGO_BIN_EXE_xray-lab"))
        .args(["report", "--data"])
        .arg(data)
        .arg("--out")
        .arg(&report)
        .env("XRAY_LAB_CACHE", work.join("cache"))
        .env_remove("XRAY_LAB_SPLIT")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stems = |dir: &Path, prefix: &str| -> std::collections::BTreeSet<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "svg"))
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .filter_map(|s| s.strip_prefix(prefix).map(str::to_string))
            .collect()
    };
    let from_notebook = stems(&out.join("figures/06_figures"), "");
    let mut from_report = stems(&report.join("figures"), "");
    // The report's shortcut section adds two figures; notebook 08 draws them.
    for stem in ["acquisition", "occlusion_averages"] {
        assert!(from_report.remove(stem), "the report has no {stem} figure");
    }
    assert!(from_report.len() >= 20, "{from_report:?}");
    assert_eq!(
        from_notebook, from_report,
        "notebook 06 and `xray-lab report` made different figures"
    );
    assert_eq!(
        stems(&out.join("figures"), "06_dashboard_"),
        stems(&report.join("dashboards"), "dashboard_"),
        "notebook 06 and `xray-lab report` made different dashboards"
    );
}

/// Checks an executed notebook: no cell failed or wrote to stderr (but the cells tagged
/// `raises-exception`, which must fail), every self-check ran and said what it must (the worked
/// answers: "Correct" everywhere; the course: "Your turn", its blanks left as `todo!()`), a course
/// notebook showed a figure, every notebook but 00 a table and where its images come from.
fn check_executed(file: &Path, name: &str, is_answer: bool) {
    let executed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let cells = executed["cells"].as_array().unwrap();
    let mut svg_outputs = 0;
    let mut checks = 0;
    for cell in cells.iter().filter(|c| c["cell_type"] == "code") {
        let source = cell["source"]
            .as_array()
            .map(|lines| lines.iter().filter_map(|l| l.as_str()).collect::<String>())
            .unwrap_or_default();
        let outputs = cell["outputs"].as_array().unwrap();
        let tagged_to_fail = cell["metadata"]["tags"]
            .as_array()
            .is_some_and(|tags| tags.iter().any(|t| t == "raises-exception"));
        if tagged_to_fail {
            assert!(
                outputs.iter().any(|o| o["output_type"] == "error"
                    || (o["output_type"] == "stream" && o["name"] == "stderr")),
                "{name}: the cell meant to fail (tagged raises-exception) ran without an error: {source}"
            );
            continue;
        }
        // A course check is `q.check(|| ...)`; a settings check (`options.check()?`) is not one.
        if source.contains(".check(||") {
            checks += 1;
            let shown = serde_json::to_string(outputs).unwrap();
            assert!(
                shown.contains("xray-lab-check"),
                "{name}: a check cell showed no verdict: {source}\n{shown}"
            );
            let wanted = if is_answer {
                ">Correct<"
            } else {
                ">Your turn<"
            };
            assert!(
                shown.contains(wanted),
                "{name}: a check cell did not say {wanted}: {source}\n{shown}"
            );
        }
        for output in outputs {
            assert_ne!(
                output["output_type"], "error",
                "{name}: a cell failed: {output}"
            );
            // evcxr prints the error of a cell that ends in `?` to stderr instead of
            // raising an error output, so any stderr text counts as a failure.
            assert!(
                !(output["output_type"] == "stream" && output["name"] == "stderr"),
                "{name}: a cell wrote to stderr (an error returned with `?`): {}\n in cell: {}",
                output["text"],
                cell["source"]
            );
            if output["data"]["text/html"].to_string().contains("<svg") {
                svg_outputs += 1;
            }
        }
    }
    // Every notebook has self-checks (notebook 00 one per idea).
    assert!(checks >= 4, "{name} has {checks} self-checks");
    // Notebook 00 teaches Rust: no dataset, no figure, no table.
    if name.starts_with("00_") {
        return;
    }
    // Every notebook of the course shows figures; an answer may be tables only.
    assert!(
        is_answer || svg_outputs > 0,
        "{name} showed no figure inline"
    );
    // A table at the end of a cell shows as an HTML table (frame::Table), a dataset as
    // the box that says where its images come from.
    let shown = serde_json::to_string(cells).unwrap();
    assert!(shown.contains("<table>"), "{name} showed no table");
    assert!(
        shown.contains("SYNTHETIC data")
            || shown.contains("REAL X-rays")
            || shown.contains("your images"),
        "{name} does not say where its images come from"
    );
}
