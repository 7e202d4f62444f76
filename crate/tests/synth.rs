//! The synthetic dataset: counts, determinism, decodability and the real data's size spread.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use xray_lab::prelude::*;

fn files(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir(root)
        .into_iter()
        .map(|p| {
            (
                p.strip_prefix(root).unwrap().to_path_buf(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walkdir(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn small_scale_has_the_kaggle_layout_and_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let summary = SynthOptions::new()
        .scale(0.02)
        .seed(1)
        .write(tmp.path())
        .unwrap();
    let dataset = load::scan(tmp.path()).unwrap();
    assert_eq!(dataset.len(), summary.images);
    let counts = dataset.counts().unwrap();
    let n: Vec<u32> = counts
        .column("images")
        .unwrap()
        .u32()
        .unwrap()
        .into_no_null_iter()
        .collect();
    // round(0.02 x (1341, 3875, 234, 390, 8, 8)), at least one per folder.
    assert_eq!(n, [27, 78, 5, 8, 1, 1]);
    // The non-image files are there and skipped, with the marker.
    assert_eq!(summary.other_files, 3);
    assert_eq!(dataset.skipped.len(), 4);
    // Every image has a patient, and most patients have more than one image among PNEUMONIA.
    assert_eq!(dataset.images.column("patient").unwrap().null_count(), 0);
    let patients = dataset
        .images
        .column("patient")
        .unwrap()
        .n_unique()
        .unwrap();
    assert!(patients < dataset.len(), "several images per patient");
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    SynthOptions::new()
        .scale(0.01)
        .seed(9)
        .write(a.path())
        .unwrap();
    SynthOptions::new()
        .scale(0.01)
        .seed(9)
        .write(b.path())
        .unwrap();
    SynthOptions::new()
        .scale(0.01)
        .seed(10)
        .write(c.path())
        .unwrap();
    let strip = |mut m: BTreeMap<PathBuf, Vec<u8>>| {
        m.remove(Path::new(synth::MARKER)); // holds the wall-clock time
        m
    };
    let (fa, fb, fc) = (
        strip(files(a.path())),
        strip(files(b.path())),
        strip(files(c.path())),
    );
    assert_eq!(fa, fb);
    assert_ne!(fa, fc);
}

#[test]
fn every_image_decodes_as_baseline_8bit_with_the_real_size_spread() {
    let tmp = tempfile::tempdir().unwrap();
    // The acquisition pattern off: every file a plain baseline JFIF.
    SynthOptions::new()
        .scale(0.05)
        .seed(5)
        .acquisition(false)
        .write(tmp.path())
        .unwrap();
    let dataset = load::scan(tmp.path()).unwrap();
    let paths = dataset
        .images
        .column("path")
        .unwrap()
        .str()
        .unwrap()
        .clone();
    let classes = dataset
        .images
        .column("class")
        .unwrap()
        .str()
        .unwrap()
        .clone();
    let mut sizes: BTreeMap<&str, Vec<(u32, u32)>> = BTreeMap::new();
    let mut rgb = 0;
    for (path, class) in paths.iter().zip(classes.iter()) {
        let (path, class) = (path.unwrap(), class.unwrap());
        let bytes = std::fs::read(path).unwrap();
        // Baseline DCT: the SOF0 marker, never SOF2 (progressive).
        assert!(
            bytes.windows(2).any(|w| w == [0xFF, 0xC0]),
            "{path} is not baseline"
        );
        assert!(
            !bytes.windows(2).any(|w| w == [0xFF, 0xC2]),
            "{path} is progressive"
        );
        let image =
            xray_lab::image::load_from_memory(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
        match image.color() {
            xray_lab::image::ColorType::L8 => {}
            xray_lab::image::ColorType::Rgb8 => rgb += 1,
            other => panic!("{path}: unexpected colour type {other:?}"),
        }
        sizes
            .entry(class)
            .or_default()
            .push((image.width(), image.height()));
    }
    let n = dataset.len();
    assert!(rgb < n / 10, "a few percent RGB, got {rgb} of {n}");
    let all: Vec<(u32, u32)> = sizes.values().flatten().copied().collect();
    let (wmin, wmax) = (
        all.iter().map(|s| s.0).min().unwrap(),
        all.iter().map(|s| s.0).max().unwrap(),
    );
    let (hmin, hmax) = (
        all.iter().map(|s| s.1).min().unwrap(),
        all.iter().map(|s| s.1).max().unwrap(),
    );
    assert!(
        wmin >= 384 && wmax <= 2916 && hmin >= 127 && hmax <= 2713,
        "{wmin}-{wmax} x {hmin}-{hmax}"
    );
    assert!(
        wmax - wmin > 1000 && hmax - hmin > 800,
        "sizes spread: {wmin}-{wmax} x {hmin}-{hmax}"
    );
    let mean_area = |c: &str| {
        sizes[c]
            .iter()
            .map(|s| s.0 as f64 * s.1 as f64)
            .sum::<f64>()
            / sizes[c].len() as f64
    };
    assert!(
        mean_area("NORMAL") > 1.3 * mean_area("PNEUMONIA"),
        "NORMAL images larger on average"
    );
}

#[test]
fn ensure_reuses_a_finished_dataset_and_rejects_bad_scales() {
    let tmp = tempfile::tempdir().unwrap();
    let options = SynthOptions::new().scale(0.005);
    let first = options.ensure(tmp.path()).unwrap();
    let again = options.ensure(tmp.path()).unwrap();
    assert_eq!(
        first.seconds, again.seconds,
        "the second call regenerated instead of reusing the finished dataset"
    );
    assert!(options.is_written_in(tmp.path()));
    assert!(!options.clone().acquisition(false).is_written_in(tmp.path()));
    // A dataset of an older generator version is written again, not kept.
    let marker = tmp.path().join(synth::MARKER);
    let text = std::fs::read_to_string(&marker).unwrap();
    std::fs::write(&marker, text.replace("\"version\": 2", "\"version\": 1")).unwrap();
    assert!(!options.is_written_in(tmp.path()));
    let rewritten = options.ensure(tmp.path()).unwrap();
    assert_eq!(rewritten.version, 2);
    // The command line's --ensure keeps a dataset it would write the same.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xray-lab"))
        .args(["synth", "--scale", "0.005", "--ensure", "--out"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("kept"));
    assert!(SynthOptions::new().scale(0.0).write(tmp.path()).is_err());
    assert!(SynthOptions::new()
        .scale(f64::NAN)
        .write(tmp.path())
        .is_err());
}

#[test]
fn the_default_files_carry_the_kaggle_acquisition_pattern_and_plain_ones_do_not() {
    let tmp = tempfile::tempdir().unwrap();
    SynthOptions::new()
        .scale(0.1)
        .seed(3)
        .write(tmp.path().join("kaggle"))
        .unwrap();
    SynthOptions::new()
        .scale(0.1)
        .seed(3)
        .acquisition(false)
        .write(tmp.path().join("plain"))
        .unwrap();
    let table = |name: &str| {
        let images = load::scan(tmp.path().join(name)).unwrap().images;
        xray_lab::shortcut::acquisition(
            &xray_lab::facts::facts_in(
                &images,
                &xray_lab::cache::Caches::in_folder(tmp.path().join("cache")),
            )
            .unwrap(),
        )
        .unwrap()
    };
    let value = |t: &polars::prelude::DataFrame, column: &str, row: usize| {
        xray_lab::frame::floats(t, column).unwrap()[row]
    };
    // Rows: NORMAL, then PNEUMONIA. Measured on the Kaggle files: 411 of 419 NORMAL files
    // with EXIF and ICC, no PNEUMONIA file with ICC, 42 of 1,176 progressive, 85 RGB.
    let kaggle = table("kaggle");
    assert!(value(&kaggle, "ICC", 0) > 0.9 && value(&kaggle, "EXIF", 0) > 0.9);
    assert_eq!(value(&kaggle, "ICC", 1), 0.0);
    assert_eq!(value(&kaggle, "progressive", 0), 0.0);
    assert_eq!(value(&kaggle, "RGB", 0), 0.0);
    let (progressive, rgb) = (value(&kaggle, "progressive", 1), value(&kaggle, "RGB", 1));
    assert!(progressive > 0.005 && progressive < 0.1, "{progressive}");
    assert!(rgb > 0.02 && rgb < 0.15, "{rgb}");
    assert_eq!(
        value(&kaggle, "EXIF", 1),
        progressive,
        "EXIF only on the progressive ones"
    );
    assert!(value(&kaggle, "median quality", 0) >= 88.0);
    assert_eq!(value(&kaggle, "median quality", 1), 75.0);
    // Plain: no header fact differs by class.
    let plain = table("plain");
    for column in ["EXIF", "ICC", "progressive", "dpi"] {
        assert_eq!(
            (value(&plain, column, 0), value(&plain, column, 1)),
            (0.0, 0.0)
        );
    }
    assert_eq!(
        value(&plain, "median quality", 0),
        value(&plain, "median quality", 1)
    );
}
