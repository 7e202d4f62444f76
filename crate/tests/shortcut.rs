//! The shortcut lesson's tools: the matched test (balanced, inside test, disjoint from train,
//! within its tolerance, the same on every run), size-blind decoding, and occlusion maps (a
//! model that reads one corner is bright only there; a model on file facts is dark everywhere).

mod common;

use std::collections::HashSet;

use xray_lab::prelude::*;
use xray_lab::train::linear::{LinearModel, RidgeRegression};
use xray_lab::train::{Estimator, Input};

fn synthetic(tmp: &std::path::Path) -> (DataFrame, DataFrame) {
    let root = tmp.join("data");
    SynthOptions::new()
        .scale(0.1)
        .seed(11)
        .write(&root)
        .unwrap();
    let dataset = load::scan(&root).unwrap();
    let images = split::resplit(&dataset.images, &ResplitOptions::new()).unwrap();
    let facts = facts::facts_in(
        &images,
        &xray_lab::cache::Caches::in_folder(tmp.join("cache")),
    )
    .unwrap();
    (images, facts)
}

#[test]
fn the_matched_test_is_balanced_inside_test_disjoint_from_train_and_reproducible() {
    let tmp = tempfile::tempdir().unwrap();
    let (images, facts) = synthetic(tmp.path());
    let matched = shortcut::matched_test(&facts, Subset::Test, 0.1).unwrap();
    let pairs = matched.table();
    assert!(matched.pairs() > 5, "{}", matched.pairs());
    assert!(matched.pairs() <= matched.available[0].min(matched.available[1]));
    // Balanced: each pair one NORMAL and one PNEUMONIA film, each film once.
    let normal = frame::strings(pairs, "normal").unwrap();
    let pneumonia = frame::strings(pairs, "pneumonia").unwrap();
    assert_eq!(matched.paths().len(), 2 * matched.pairs());
    let class_of: std::collections::HashMap<String, (String, String)> =
        frame::strings(&images, "path")
            .unwrap()
            .into_iter()
            .zip(
                frame::strings(&images, "class")
                    .unwrap()
                    .into_iter()
                    .zip(frame::strings(&images, "subset").unwrap()),
            )
            .collect();
    for (n, p) in normal.iter().zip(&pneumonia) {
        assert_eq!(class_of[n].0, "NORMAL");
        assert_eq!(class_of[p].0, "PNEUMONIA");
    }
    // Inside test, so disjoint from train (and validation).
    for path in matched.paths() {
        assert_eq!(class_of[path].1, "test", "{path}");
    }
    let train: HashSet<&String> = class_of
        .iter()
        .filter(|(_, (_, s))| s == "train")
        .map(|(p, _)| p)
        .collect();
    assert!(matched.paths().iter().all(|p| !train.contains(p)));
    // Within the tolerance on both sides.
    let ratio = |a: &str, b: &str| -> Vec<f64> {
        let (a, b) = (
            frame::floats(pairs, a).unwrap(),
            frame::floats(pairs, b).unwrap(),
        );
        a.iter().zip(&b).map(|(x, y)| (x / y).ln().abs()).collect()
    };
    for r in ratio("normal_width", "pneumonia_width")
        .into_iter()
        .chain(ratio("normal_height", "pneumonia_height"))
    {
        assert!(r <= 0.1 + 1e-12, "{r}");
    }
    // Matched, the sizes no longer tell the class: the median widths agree within 10%.
    let median = |column: &str| {
        let mut v = frame::floats(pairs, column).unwrap();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    assert!(
        (median("normal_width") / median("pneumonia_width"))
            .ln()
            .abs()
            < 0.1
    );
    // The same pairs on every run.
    let again = shortcut::matched_test(&facts, Subset::Test, 0.1).unwrap();
    assert_eq!(again.table(), matched.table());
    // A wider tolerance matches at least as many.
    assert!(
        shortcut::matched_test(&facts, Subset::Test, 0.3)
            .unwrap()
            .pairs()
            >= matched.pairs()
    );
    assert!(matches!(
        shortcut::matched_test(&facts, Subset::Test, 0.0),
        Err(Error::Parameter {
            name: "tolerance",
            ..
        })
    ));
}

#[test]
fn the_matched_metrics_cover_every_model_and_count_the_matched_images() {
    let tmp = tempfile::tempdir().unwrap();
    let (images, facts) = synthetic(tmp.path());
    let options = DecodeOptions::new()
        .cache_in(tmp.path().join("cache"))
        .progress(Progress::Quiet);
    let features = decode::features(&images, &options).unwrap();
    let evaluation = train::evaluate(&features, &TrainOptions::new()).unwrap();
    let matched = shortcut::matched_test(&facts, Subset::Test, 0.1).unwrap();
    let table = shortcut::on_matched(&evaluation, &matched).unwrap();
    assert_eq!(table.height(), evaluation.models.len());
    let counts = frame::floats(&table, "matched images").unwrap();
    assert!(counts.iter().all(|&c| c == 2.0 * matched.pairs() as f64));
    // The header models read EXIF and ICC, which matching on size leaves in place.
    let models = frame::strings(&table, "model").unwrap();
    let matched_auc = frame::floats(&table, "matched roc_auc").unwrap();
    let facts_auc = models
        .iter()
        .position(|m| m == ModelKind::ShortcutForest.name())
        .map(|i| matched_auc[i])
        .unwrap();
    assert!(facts_auc > 0.95, "{facts_auc}");

    // Size-blind features are keyed apart and decoded alike whatever the size.
    let blind = decode::features(&images, &options.clone().size_blind(true)).unwrap();
    assert_eq!(blind.key(), "150px-sizeblind");
    assert_eq!(blind.rows(), features.rows());
    assert_ne!(blind.matrix(), features.matrix());
}

/// A linear model on `side x side` pixels whose weights are 1 on the pixels `reads` accepts.
fn linear_reading(side: u32, reads: impl Fn(usize, usize) -> bool) -> Model {
    let s = side as usize;
    let weights = (0..s * s)
        .map(|i| if reads(i % s, i / s) { 1.0 } else { 0.0 })
        .collect();
    Model {
        kind: ModelKind::LinearRegression,
        estimator: Estimator::Ridge(RidgeRegression {
            model: LinearModel {
                weights,
                intercept: 0.0,
            },
            alpha: 1.0,
        }),
        input: Input::Pixels,
        decode: DecodeOptions::new().size(side),
        threshold: 0.5,
        fit_seconds: 0.0,
    }
}

#[test]
fn a_model_that_reads_one_corner_has_a_map_bright_only_there() {
    let model = linear_reading(150, |x, y| x >= 140 && y < 10);
    let file = common::real_sample().join("PNEUMONIA/person1946_bacteria_4875.jpeg");
    let map = model.occlusion(&file, 15, 5).unwrap();
    assert_eq!(
        (map.side, map.map.len(), map.image.len()),
        (150, 22_500, 22_500)
    );
    // Non-zero only where a patch touching the corner's pixels can reach: within 15 pixels.
    for (i, v) in map.map.iter().enumerate() {
        let (x, y) = (i % 150, i / 150);
        if x < 140 - 15 || y >= 10 + 15 {
            assert_eq!(*v, 0.0, "({x}, {y}) = {v}");
        }
    }
    assert!(map.peak() > 0.0);
    let regions = map.regions();
    assert!(regions.corners > 0.6 && regions.lungs == 0.0, "{regions:?}");
    // The same image read through its pixels gives the same map.
    let again = model.occlusion_of(&map.image, 15, 5).unwrap();
    assert_eq!(again.map, map.map);

    // A model that reads the middle looks at the lungs.
    let middle = linear_reading(150, |x, y| (50..100).contains(&x) && (40..100).contains(&y));
    assert!(middle.occlusion(&file, 15, 5).unwrap().regions().lungs > 0.95);
    // Bad settings are refused.
    assert!(matches!(
        model.occlusion(&file, 0, 5),
        Err(Error::Parameter { name: "patch", .. })
    ));
    assert!(matches!(
        model.occlusion(&file, 15, 0),
        Err(Error::Parameter { name: "stride", .. })
    ));
    assert!(model.occlusion_of(&[0.5; 10], 15, 5).is_err());
}

#[test]
fn a_model_on_file_facts_has_a_dark_map_and_the_plots_draw() {
    let tmp = tempfile::tempdir().unwrap();
    let (images, _) = synthetic(tmp.path());
    let options = DecodeOptions::new()
        .cache_in(tmp.path().join("cache"))
        .progress(Progress::Quiet);
    let features = decode::features(&images, &options).unwrap();
    let evaluation = train::evaluate(&features, &TrainOptions::new().trees(20)).unwrap();
    let facts_model = evaluation.model(ModelKind::ShortcutForest).unwrap();
    let path = frame::strings(&images, "path").unwrap()[0].clone();
    let map = facts_model.occlusion(&path, 15, 5).unwrap();
    assert_eq!(map.peak(), 0.0);
    assert!((0.0..=1.0).contains(&map.score));
    assert!(facts_model.occlusion_of(&map.image, 15, 5).is_err());

    let maps: Vec<_> = [
        ModelKind::LogisticRegression,
        ModelKind::RandomForest,
        ModelKind::ShortcutForest,
    ]
    .iter()
    .map(|&k| {
        occlusion::average_maps(
            evaluation.model(k).unwrap(),
            &features,
            Subset::Test,
            4,
            15,
            10,
        )
        .unwrap()
    })
    .collect();
    assert_eq!(maps[0].counts, [4, 4]);
    let regions = occlusion::regions_table(&maps).unwrap();
    assert_eq!(regions.height(), 6);
    let shares = maps[0].regions()[1];
    assert!((shares.lungs + shares.corners + shares.border - 1.0).abs() < 1e-9);
    assert!(maps[2].regions()[0].lungs.is_nan());
    for figure in [
        plot::occlusion_averages(&maps).unwrap(),
        plot::occlusion_map(
            "one film",
            &evaluation
                .model(ModelKind::LogisticRegression)
                .unwrap()
                .occlusion(&path, 15, 5)
                .unwrap(),
        )
        .unwrap(),
        plot::acquisition(
            &shortcut::acquisition(
                &facts::facts_in(
                    &images,
                    &xray_lab::cache::Caches::in_folder(tmp.path().join("cache")),
                )
                .unwrap(),
            )
            .unwrap(),
        )
        .unwrap(),
    ] {
        assert!(figure.to_png().unwrap().len() > 5_000, "{}", figure.title());
    }
}
