//! `xray-lab report`: every output present, figures not blank, metrics.json complete and sane.

use std::process::Command;

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
    assert!(
        stdout.contains("report.html") && stdout.contains("== features"),
        "{stdout}"
    );

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
    assert_eq!(rows.len(), 6 * 3);
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
}
