//! `xray-lab report`: every output present, figures not blank, metrics.json complete and sane.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;

use xray_lab::prelude::*;
use xray_lab::report::ReportOptions;
use xray_lab::train::linear::LogisticParameters;

fn drawn_fraction(rgb: &[u8]) -> f64 {
    rgb.chunks_exact(3)
        .filter(|p| p.iter().any(|&c| c < 240))
        .count() as f64
        / (rgb.len() / 3) as f64
}

#[test]
fn the_report_command_writes_every_figure_dashboard_page_and_metric() {
    let data = tempfile::tempdir().unwrap();
    xray_lab::synth::SynthOptions::new()
        .scale(0.05)
        .write(data.path())
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_xray-lab"))
        .args(["report", "--data"])
        .arg(data.path())
        .arg("--out")
        .arg(out.path())
        .env("XRAY_LAB_CACHE", cache.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // Stage lines are progress: on stderr, never mixed into what the command prints.
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stdout.contains("report.html"), "{stdout}");
    assert!(stderr.contains("== features"), "{stderr}");
    assert!(!stdout.contains("== features"), "{stdout}");

    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("metrics.json")).unwrap()).unwrap();
    // Every file it lists exists; every PNG has something drawn.
    let files = metrics["files"].as_array().unwrap();
    let pngs: Vec<_> = files
        .iter()
        .map(|f| f.as_str().unwrap())
        .filter(|f| f.ends_with(".png"))
        .collect();
    assert!(pngs.len() >= 23, "{} PNGs", pngs.len());
    for file in files {
        let file = file.as_str().unwrap();
        assert!(std::fs::metadata(file).unwrap().len() > 100, "{file}");
    }
    for png in pngs {
        let image = image::open(png).unwrap().to_rgb8();
        let f = drawn_fraction(image.as_raw());
        assert!(f > 0.01 && f < 0.97, "{png}: drawn fraction {f}");
    }
    for name in [
        "report.html",
        "split.csv",
        "dashboards/dashboard_complete.png",
        "figures/roc_curves.svg",
    ] {
        assert!(out.path().join(name).exists(), "{name}");
    }
    // Counts add up to the dataset; metrics for each model on each subset, in range.
    let counted: u64 = metrics["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["images"].as_u64().unwrap())
        .sum();
    let scanned = xray_lab::load::scan(data.path()).unwrap().len() as u64;
    assert_eq!(counted, scanned);
    let rows = metrics["metrics"].as_array().unwrap();
    // Every model but those on pretrained embeddings (`--pretrained`), on three subsets.
    let kinds = xray_lab::train::ModelKind::ALL
        .iter()
        .filter(|k| !k.is_pretrained())
        .count();
    assert_eq!(rows.len(), kinds * 3);
    for row in rows {
        for key in [
            "accuracy",
            "precision",
            "recall",
            "specificity",
            "f1",
            "roc_auc",
            "rmse",
        ] {
            let v = row[key].as_f64().unwrap_or(f64::NAN);
            assert!((0.0..=1.0).contains(&v), "{key} = {v} in {row}");
        }
    }
    let stages: Vec<&str> = metrics["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s[0].as_str().unwrap())
        .collect();
    for stage in [
        "scan",
        "split",
        "image facts",
        "features",
        "training and evaluation",
        "figures",
    ] {
        assert!(stages.contains(&stage), "no stage {stage}: {stages:?}");
    }
    assert!(metrics["rejects"].is_array() && metrics["skipped"].as_array().unwrap().len() >= 2);

    // The shortcut section: the header facts per class, the matched test with every model on
    // it (usual and size-blind decoding), where the models look; its figures and tables.
    let shortcut = &metrics["shortcut"];
    assert_eq!(shortcut["acquisition"].as_array().unwrap().len(), 2);
    let matched = &shortcut["matched"][0];
    let pairs = matched["pairs"].as_u64().unwrap();
    assert!(pairs > 0 && pairs <= matched["NORMAL available"].as_u64().unwrap());
    let on_matched = shortcut["on_matched"].as_array().unwrap();
    assert_eq!(on_matched.len(), kinds);
    for row in on_matched {
        assert_eq!(row["matched images"].as_u64().unwrap(), 2 * pairs, "{row}");
    }
    assert!(!shortcut["size_blind_on_matched"]
        .as_array()
        .unwrap()
        .is_empty());
    let looks = shortcut["occlusion"].as_array().unwrap();
    let pixel_rows: Vec<_> = looks
        .iter()
        .filter(|r| !r["model"].as_str().unwrap().starts_with("shortcut"))
        .collect();
    assert!(pixel_rows.len() >= 8, "{looks:?}");
    for row in pixel_rows {
        let shares = ["lungs", "corners", "border"].map(|k| row[k].as_f64().unwrap());
        assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{row}");
    }
    // A model on file facts reads no pixel: covering pixels never moves its score.
    assert!(looks
        .iter()
        .filter(|r| r["model"].as_str().unwrap().starts_with("shortcut"))
        .all(|r| r["lungs"].is_null()));
    for name in ["figures/acquisition.png", "figures/occlusion_averages.png"] {
        assert!(out.path().join(name).exists(), "{name}");
    }
    let page = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(page.contains("matched part") && page.contains("where the models look"));
    assert!(page.contains("The shortcut: the test matched on width and height"));
    assert!(stdout.contains("pairs matched"), "{stdout}");
}

/// The subset of each file of a split file, keyed by the hash of the file's bytes.
fn subsets_by_content(root: &Path, split_csv: &Path) -> HashMap<u128, BTreeSet<String>> {
    let mut by_content: HashMap<u128, BTreeSet<String>> = HashMap::new();
    let text = std::fs::read_to_string(split_csv).unwrap();
    for line in text.lines().skip(1) {
        let (path, subset) = line.split_once(',').unwrap();
        let bytes = std::fs::read(root.join(path)).unwrap();
        by_content
            .entry(xxhash_rust::xxh3::xxh3_128(&bytes))
            .or_default()
            .insert(subset.to_string());
    }
    by_content
}

fn quiet_options(cache: &Path, seed: u64) -> ReportOptions {
    ReportOptions {
        resplit: ResplitOptions::new().seed(seed).cache_in(cache),
        decode: DecodeOptions::new()
            .size(32)
            .progress(Progress::Quiet)
            .cache_in(cache),
        train: TrainOptions::new().seed(seed).trees(20),
        ..ReportOptions::default()
    }
}

#[test]
fn copies_under_other_patient_names_stay_in_one_subset_from_every_entry_point() {
    // The Kaggle download holds byte-identical files under different patient names; grouping
    // by patient alone put copies in train and test. Here 15 training images get a copy under a
    // new patient's name.
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let cache = tmp.path().join("cache");
    SynthOptions::new().scale(0.05).write(&data).unwrap();
    let originals: Vec<_> = std::fs::read_dir(data.join("train/PNEUMONIA"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpeg"))
        .take(15)
        .collect();
    for (n, original) in originals.iter().enumerate() {
        let copy = data.join(format!(
            "train/PNEUMONIA/person{}_virus_{}.jpeg",
            90_000 + n,
            n
        ));
        std::fs::copy(original, copy).unwrap();
    }

    let report = tmp.path().join("report");
    let summary = xray_lab::report::build(&data, &report, &quiet_options(&cache, 42)).unwrap();
    assert!(
        summary.split_check.duplicate_groups >= 15,
        "{:?}",
        summary.split_check
    );
    assert_eq!(summary.split_check.leaking_images, 0);
    for (hash, subsets) in subsets_by_content(&data, &report.join("split.csv")) {
        assert_eq!(subsets.len(), 1, "content {hash:x} is in {subsets:?}");
    }

    // `train`, `xray-lab split` and the notebooks' recipe give the same split for the same seed.
    let trained = tmp.path().join("train");
    xray_lab::report::train(&data, &trained, &quiet_options(&cache, 42)).unwrap();
    let split_file = tmp.path().join("split.csv");
    let run = Command::new(env!("CARGO_BIN_EXE_xray-lab"))
        .args(["split", "--seed", "42", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&split_file)
        .env("XRAY_LAB_CACHE", &cache)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let dataset = load::scan(&data).unwrap();
    let notebook =
        split::split_with(&dataset, None, &ResplitOptions::new().cache_in(&cache)).unwrap();
    let notebook_file = tmp.path().join("notebook.csv");
    split::write_split(&notebook, &dataset.root, &notebook_file).unwrap();
    let read = |p: &Path| std::fs::read_to_string(p).unwrap();
    let reported = read(&report.join("split.csv"));
    assert_eq!(read(&trained.join("split.csv")), reported);
    assert_eq!(read(&split_file), reported);
    assert_eq!(read(&notebook_file), reported);
}

#[test]
fn a_patient_of_the_test_folder_never_lands_in_train() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    SynthOptions::new().scale(0.05).write(&data).unwrap();
    // A training image renamed to a patient of the test folder (other bytes: only the patient
    // ties them).
    let test_file = std::fs::read_dir(data.join("test/PNEUMONIA"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("person"))
        .unwrap();
    let patient = load::patient_id(&test_file).unwrap();
    let train_file = std::fs::read_dir(data.join("train/PNEUMONIA"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "jpeg"))
        .unwrap();
    let moved = data.join(format!("train/PNEUMONIA/{patient}_bacteria_99999.jpeg"));
    std::fs::rename(&train_file, &moved).unwrap();

    let dataset = load::scan(&data).unwrap();
    let cache = tmp.path().join("cache");
    let options = ResplitOptions::new().cache_in(&cache);
    let images = split::split_with(&dataset, None, &options).unwrap();
    let paths = frame::strings(&images, "path").unwrap();
    let subsets = frame::strings(&images, "subset").unwrap();
    let at = paths.iter().position(|p| Path::new(p) == moved).unwrap();
    assert_eq!(subsets[at], "test", "{patient} is also in the test folder");
    split::check_leakage(
        &split::add_content_hash_in(&images, &xray_lab::cache::Caches::in_folder(&cache)).unwrap(),
    )
    .unwrap();
}

#[test]
fn json_output_stays_json_when_the_cache_cannot_be_written() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    SynthOptions::new().scale(0.02).write(&data).unwrap();
    // The cache folder is a file: every cache write fails.
    let blocked = tmp.path().join("not-a-folder");
    std::fs::write(&blocked, b"a file").unwrap();
    for (command, out) in [("features", "features.arrow"), ("train", "trained")] {
        let run = Command::new(env!("CARGO_BIN_EXE_xray-lab"))
            .args([command, "--json", "--size", "32", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(tmp.path().join(out))
            .env("XRAY_LAB_CACHE", &blocked)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{command}: {stderr}");
        let parsed: Result<serde_json::Value, _> = serde_json::from_slice(&run.stdout);
        assert!(
            parsed.is_ok(),
            "{command}: stdout is not one JSON document:\n{}",
            String::from_utf8_lossy(&run.stdout)
        );
        assert!(
            stderr.contains("not updated"),
            "{command}: the warning belongs on stderr: {stderr}"
        );
    }
}

#[test]
fn settings_out_of_range_are_refused_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    SynthOptions::new().scale(0.02).write(&data).unwrap();
    let cache = tmp.path().join("cache");
    let mut options = quiet_options(&cache, 1);
    options.train = TrainOptions::new().trees(0);
    let error = xray_lab::report::train(&data, tmp.path().join("out"), &options).unwrap_err();
    assert!(
        matches!(error, Error::Parameter { name: "trees", .. }),
        "{error}"
    );
    assert!(error.to_string().contains("trees = 0"), "{error}");

    options.train = TrainOptions::new().logistic(LogisticParameters::default().with_penalty(-1.0));
    let error = xray_lab::report::train(&data, tmp.path().join("out"), &options).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Parameter {
                name: "penalty",
                ..
            }
        ),
        "{error}"
    );

    for size in [0, 70_000] {
        options.train = TrainOptions::new();
        options.decode = DecodeOptions::new().size(size).cache_in(&cache);
        let error = xray_lab::report::train(&data, tmp.path().join("out"), &options).unwrap_err();
        assert!(
            matches!(error, Error::Parameter { name: "size", .. }),
            "{error}"
        );
    }
    // Nothing was written for the refused runs.
    assert!(!tmp.path().join("out").join("metrics.json").exists());
}
