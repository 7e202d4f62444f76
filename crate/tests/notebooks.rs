//! Every notebook in `notebooks/` executes headless with the real evcxr kernel on a small
//! synthetic dataset, and fails on any cell error.
//!
//! Needs `jupyter` (nbconvert) and the `rust` kernel (`evcxr_jupyter --install`); `scripts/test`
//! installs both. On a machine without them this test fails with a message saying so; set
//! `XRAY_LAB_SKIP_NOTEBOOKS=1` to skip it on purpose (the skip is printed).

use std::path::{Path, PathBuf};
use std::process::Command;

use xray_lab::synth::SynthOptions;

fn notebooks() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../notebooks");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ipynb"))
        .collect();
    found.sort();
    found
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
        Ok(out) if String::from_utf8_lossy(&out.stdout).contains("rust") => {}
        _ => panic!("jupyter with the evcxr `rust` kernel is needed: run scripts/test (it installs both), or set XRAY_LAB_SKIP_NOTEBOOKS=1"),
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    SynthOptions::new()
        .scale(0.02)
        .seed(7)
        .write(&data)
        .unwrap();
    // One evcxr build folder for all twelve kernels, which run one at a time. With a folder of
    // its own (Jupyter's default), each kernel spends about two minutes on 2 cores before its
    // first cell: `:cache` keeps the registry crates, but the crate itself (a path dependency,
    // about 70 s at evcxr's opt-level 2) and the build scripts' C code are built again. Here
    // the first kernel builds them and the others find them built, as cargo sees fit. (evcxr
    // calls EVCXR_TMPDIR a debugging aid because kernels running at once must not share it,
    // evcxr/evcxr#302; and it must not sit under the home folder that holds ~/.rustup, or
    // evcxr's relative rpath misses the toolchain and every kernel dies with "dlopen failed".
    // The system's temporary folder is neither.)
    let evcxr = tmp.path().join("evcxr");
    std::fs::create_dir_all(&evcxr).unwrap();
    execute_every_notebook(&data, &tmp.path().join("synthetic"), &evcxr);
    // The 16 real X-rays: one folder per class and no split folders, real files' sizes and
    // encodings; each notebook must run on them as it is, from its own environment variable.
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real-sample");
    execute_every_notebook(&real, &tmp.path().join("real"), &evcxr);
}

/// Executes every notebook on `data` into `work/out` (its own cache in `work/cache`; kernels
/// build in `evcxr`) and checks that no cell failed, that each showed a figure, and that the
/// figures and page were saved.
fn execute_every_notebook(data: &Path, work: &Path, evcxr: &Path) {
    let out = work.join("out");
    let notebooks = notebooks();
    assert!(!notebooks.is_empty());
    for notebook in notebooks {
        let name = notebook.file_name().unwrap().to_string_lossy().into_owned();
        eprintln!("executing {name} on {}", data.display());
        let status = Command::new("jupyter")
            .args([
                "nbconvert",
                "--to",
                "notebook",
                "--execute",
                "--ExecutePreprocessor.kernel_name=rust",
                "--ExecutePreprocessor.timeout=1800",
                "--output-dir",
            ])
            .arg(&out)
            .arg(&notebook)
            .env("XRAY_LAB_DATA", data)
            .env("XRAY_LAB_OUT", out.join("figures"))
            .env("XRAY_LAB_CACHE", work.join("cache"))
            .env("EVCXR_TMPDIR", evcxr)
            .env_remove("XRAY_LAB_SPLIT")
            .status()
            .unwrap();
        assert!(
            status.success(),
            "{name} failed to execute on {} (see the cell error above)",
            data.display()
        );

        let executed: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join(&name)).unwrap()).unwrap();
        let cells = executed["cells"].as_array().unwrap();
        let mut svg_outputs = 0;
        for cell in cells.iter().filter(|c| c["cell_type"] == "code") {
            for output in cell["outputs"].as_array().unwrap() {
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
        assert!(svg_outputs > 0, "{name} showed no figure inline");
    }
    // The notebooks saved their figures in both formats.
    let figures = [
        "01_images_per_subset",
        "03_image_sizes",
        "04_intensity_histograms",
        "04_sample_grid",
        "05_confusion_matrices",
        "05_roc_curves",
        "05_score_histograms",
        "05_coefficients",
        "06_dashboard_simple",
        "06_dashboard_proportions",
        "06_dashboard_complete",
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
}
