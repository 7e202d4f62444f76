//! Training: the linear solvers against direct solutions, the classifiers on the synthetic
//! dataset, determinism, persistence and prediction from a file.

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use xray_lab::prelude::*;
use xray_lab::train::linear::{LogisticParameters, LogisticRegression, RidgeRegression};
use xray_lab::train::tree::{DecisionTree, ForestParameters, RandomForest, TreeParameters};
use xray_lab::train::Estimator;

/// A random problem: `n` rows of `p` values in [0, 1], labels from a noisy linear rule.
fn problem(n: usize, p: usize, seed: u64) -> Samples {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x: Vec<f32> = (0..n * p).map(|_| rng.random::<f32>()).collect();
    let y = (0..n)
        .map(|i| {
            let row = &x[i * p..(i + 1) * p];
            let z: f32 = row
                .iter()
                .enumerate()
                .map(|(j, v)| if j % 2 == 0 { *v } else { -*v })
                .sum();
            u32::from(z + rng.random::<f32>() - 0.5 > 0.0)
        })
        .collect();
    Samples::new(x, p, y).unwrap()
}

/// Solve `a x = b` by Gaussian elimination with partial pivoting (f64): the direct reference,
/// kept in its textbook index form.
#[allow(clippy::needless_range_loop)]
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for k in 0..n {
        let pivot = (k..n)
            .max_by(|&i, &j| a[i][k].abs().total_cmp(&a[j][k].abs()))
            .unwrap();
        a.swap(k, pivot);
        b.swap(k, pivot);
        for i in k + 1..n {
            let f = a[i][k] / a[k][k];
            for j in k..n {
                a[i][j] -= f * a[k][j];
            }
            b[i] -= f * b[k];
        }
    }
    let mut x = vec![0.0; n];
    for k in (0..n).rev() {
        x[k] = (b[k] - (k + 1..n).map(|j| a[k][j] * x[j]).sum::<f64>()) / a[k][k];
    }
    x
}

/// Ridge by the textbook: augment X with a column of ones, penalise all but it, solve the
/// (p+1) x (p+1) normal equations.
fn direct_ridge(x: &Samples, alpha: f64) -> (Vec<f64>, f64) {
    let (n, p) = (x.rows(), x.cols());
    let row = |i: usize| -> Vec<f64> {
        let mut r: Vec<f64> = x.row(i).iter().map(|&v| v as f64).collect();
        r.push(1.0);
        r
    };
    let mut a = vec![vec![0.0; p + 1]; p + 1];
    let mut b = vec![0.0; p + 1];
    for i in 0..n {
        let r = row(i);
        for j in 0..=p {
            for k in 0..=p {
                a[j][k] += r[j] * r[k];
            }
            b[j] += r[j] * x.y()[i] as f64;
        }
    }
    for (j, a) in a.iter_mut().enumerate().take(p) {
        a[j] += alpha;
    }
    let w = solve(a, b);
    (w[..p].to_vec(), w[p])
}

fn assert_close(a: &[f64], b: &[f64], tolerance: f64, what: &str) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tolerance * (1.0 + y.abs()),
            "{what}[{i}]: {x} vs {y}"
        );
    }
}

#[test]
fn ridge_agrees_with_the_direct_solution_in_dual_and_primal_form() {
    // p > n: the dual (kernel) form; n > p: the primal. Several penalties each.
    for (n, p) in [(30, 80), (120, 12)] {
        let x = problem(n, p, 7);
        for alpha in [0.01, 1.0, 30.0] {
            let ridge = RidgeRegression::fit(&x, alpha).unwrap();
            let (w, b) = direct_ridge(&x, alpha);
            assert_close(
                &ridge.model.weights,
                &w,
                1e-6,
                &format!("weights n={n} p={p} alpha={alpha}"),
            );
            assert_close(&[ridge.model.intercept], &[b], 1e-6, "intercept");
        }
    }
}

#[test]
fn ridge_path_picks_the_penalty_with_the_lowest_validation_error() {
    let train = problem(60, 200, 1);
    let validation = problem(40, 200, 2);
    let (best, path) = RidgeRegression::fit_path(&train, &validation, &[1e-3, 1e-1, 10.0]).unwrap();
    assert_eq!(path.len(), 3);
    let lowest = path.iter().min_by(|a, b| a.1.total_cmp(&b.1)).unwrap();
    assert_eq!(best.alpha, lowest.0);
}

/// Logistic regression by Newton's method in f64 (p small): the direct reference.
fn newton_logistic(x: &Samples, penalty: f64) -> Vec<f64> {
    let (n, p) = (x.rows(), x.cols());
    let positives = x.y().iter().filter(|&&y| y == 1).count() as f64;
    let weight = [
        n as f64 / (2.0 * (n as f64 - positives)),
        n as f64 / (2.0 * positives),
    ];
    let total: f64 = x.y().iter().map(|&y| weight[y as usize]).sum();
    let mut theta = vec![0.0; p + 1];
    for _ in 0..50 {
        let mut g = vec![0.0; p + 1];
        let mut h = vec![vec![0.0; p + 1]; p + 1];
        for i in 0..n {
            let mut r: Vec<f64> = x.row(i).iter().map(|&v| v as f64).collect();
            r.push(1.0);
            let z: f64 = r.iter().zip(&theta).map(|(a, b)| a * b).sum();
            let s = 1.0 / (1.0 + (-z).exp());
            let w = weight[x.y()[i] as usize] / total;
            for j in 0..=p {
                g[j] += w * (s - x.y()[i] as f64) * r[j];
                for k in 0..=p {
                    h[j][k] += w * s * (1.0 - s) * r[j] * r[k];
                }
            }
        }
        for j in 0..p {
            g[j] += penalty * theta[j];
            h[j][j] += penalty;
        }
        let step = solve(h, g);
        theta.iter_mut().zip(step).for_each(|(t, s)| *t -= s);
    }
    theta
}

#[test]
fn logistic_regression_agrees_with_newtons_method() {
    let x = problem(200, 4, 3);
    let penalty = 0.01;
    let params = LogisticParameters::default()
        .with_penalty(penalty)
        .with_tolerance(1e-12)
        .with_max_iter(1000);
    let fitted = LogisticRegression::fit(&x, &params).unwrap();
    let reference = newton_logistic(&x, penalty);
    assert_close(&fitted.model.weights, &reference[..4], 1e-6, "weights");
    assert_close(
        &[fitted.model.intercept],
        &[reference[4]],
        1e-6,
        "intercept",
    );
}

#[test]
fn logistic_regression_with_more_features_than_images_agrees_with_newtons_method() {
    // p > 2n is solved in the span of the training rows; one image twice (as duplicates are in
    // the Kaggle data) makes the Gram matrix singular, which the fit must survive.
    let base = problem(40, 90, 8);
    let rows: Vec<f32> = (0..40)
        .chain([0])
        .flat_map(|i| base.row(i).to_vec())
        .collect();
    let labels: Vec<u32> = (0..40).chain([0]).map(|i| base.y()[i]).collect();
    let x = Samples::new(rows, 90, labels).unwrap();
    let penalty = 0.05;
    let params = LogisticParameters::default()
        .with_penalty(penalty)
        .with_tolerance(1e-10)
        .with_max_iter(2000);
    let fitted = LogisticRegression::fit(&x, &params).unwrap();
    let reference = newton_logistic(&x, penalty);
    assert_close(&fitted.model.weights, &reference[..90], 1e-5, "weights");
    assert_close(
        &[fitted.model.intercept],
        &[reference[90]],
        1e-5,
        "intercept",
    );
}

#[test]
fn models_refuse_mismatched_inputs_with_a_clear_error() {
    let x = problem(40, 6, 4);
    let ridge = RidgeRegression::fit(&x, 1.0).unwrap();
    let other = problem(10, 5, 4);
    let error = ridge.predict(&other).unwrap_err();
    assert!(
        matches!(&error, Error::ShapeMismatch { expected, found, .. }
            if expected.starts_with("6 features") && found.ends_with(" 5")),
        "{error}"
    );
    assert!(matches!(
        RidgeRegression::fit(&x, 0.0),
        Err(Error::Parameter {
            name: "penalty",
            ..
        })
    ));
    let one_class = Samples::new(vec![0.5; 8], 2, vec![1; 4]).unwrap();
    let error = LogisticRegression::fit(&one_class, &LogisticParameters::default()).unwrap_err();
    assert!(matches!(error, Error::OneClass { .. }), "{error}");
    assert!(matches!(
        Samples::new(vec![0.0; 5], 2, vec![0, 1]),
        Err(Error::ShapeMismatch { .. })
    ));
}

#[test]
fn a_tree_separates_separable_data_and_balances_classes() {
    let x = problem(300, 3, 5);
    // A rule on one feature, with 3 positives to 1 negative. Values on a grid of 0.05 (21 of
    // them, fewer than the 64 bins), so the cut at 0.25 falls between two bins.
    let grid: Vec<f32> = (0..900)
        .map(|k| (x.row(k / 3)[k % 3] * 20.0).round() / 20.0)
        .collect();
    let y: Vec<u32> = (0..300)
        .map(|i| u32::from(grid[i * 3 + 1] > 0.25))
        .collect();
    let separable = Samples::new(grid, 3, y.clone()).unwrap();
    let tree = DecisionTree::fit(
        &separable,
        &TreeParameters::default().with_min_samples_leaf(1),
    )
    .unwrap();
    let p = tree.predict_proba(&separable).unwrap();
    assert!(p.iter().zip(&y).all(|(p, &y)| (*p >= 0.5) == (y == 1)));
    assert_eq!(tree.depth(), 1, "one split suffices");
}

fn synthetic(scale: f64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    SynthOptions::new().scale(scale).write(dir.path()).unwrap();
    dir
}

/// Each call its own cache folder (beside the dataset), so tests never share or touch the
/// user's cache.
fn decoded(root: &Path) -> Features {
    let cache = root.join(".cache");
    let dataset = load::scan(root).unwrap();
    let options = ResplitOptions::new().cache_in(&cache);
    let images = split::split_with(&dataset, None, &options).unwrap();
    decode::features(
        &images,
        &DecodeOptions::new()
            .progress(Progress::Quiet)
            .cache(false)
            .cache_in(&cache),
    )
    .unwrap()
}

#[test]
fn every_classifier_beats_the_majority_class_on_the_synthetic_dataset_reproducibly() {
    // Half the full-scale synthetic dataset (2,928 images; about half a minute to write and
    // decode): enough for every floor below, and the test command stays within its budget.
    let dir = synthetic(0.5);
    let features = decoded(dir.path());
    let options = TrainOptions::new();
    let evaluation = train::evaluate(&features, &options).unwrap();
    let table = evaluation.metrics_frame().unwrap();
    println!(
        "{}",
        table
            .filter(
                &frame::column(&table, "subset")
                    .unwrap()
                    .str()
                    .unwrap()
                    .equal("test")
            )
            .unwrap()
            .select([
                "model",
                "subset",
                "images",
                "accuracy",
                "recall",
                "specificity",
                "roc_auc"
            ])
            .unwrap()
    );
    assert_eq!(table.height(), evaluation.models.len() * 3);
    // The baseline row: a constant score, so ROC AUC 0.5 and one class for every image.
    let baseline = &evaluation
        .result(ModelKind::MajorityClass, "test")
        .unwrap()
        .metrics;
    assert!(
        (baseline.roc_auc - 0.5).abs() < 1e-12,
        "{}",
        baseline.roc_auc
    );
    assert!(
        (baseline.recall - 1.0).abs() < 1e-12 && baseline.specificity == 0.0,
        "the baseline calls every image PNEUMONIA: recall {}, specificity {}",
        baseline.recall,
        baseline.specificity
    );
    for model in evaluation
        .models
        .iter()
        .filter(|m| m.kind != ModelKind::MajorityClass)
    {
        let test = evaluation.result(model.kind, "test").unwrap();
        // A single tree on a few hundred images is the weak learner (0.75 on the full dataset).
        let floor = if model.kind == ModelKind::DecisionTree {
            0.6
        } else {
            0.75
        };
        assert!(
            test.metrics.roc_auc > floor,
            "{}: test ROC AUC {}",
            model.kind,
            test.metrics.roc_auc
        );
        let balanced = (test.metrics.recall + test.metrics.specificity) / 2.0;
        assert!(
            balanced > floor - 0.1,
            "{}: balanced accuracy {balanced}",
            model.kind
        );
    }
    // Same data, same seed: the same models, bit for bit.
    let again = train::evaluate(&features, &options).unwrap();
    for (a, b) in evaluation.models.iter().zip(&again.models) {
        assert_eq!(a.estimator, b.estimator, "{} differs between runs", a.kind);
        assert_eq!(a.threshold.to_bits(), b.threshold.to_bits());
    }
    // Another seed: another forest (the forest alone, on the block means it reads).
    let pooled = Samples::from_features(&features, "train")
        .unwrap()
        .pooled(options.check().unwrap().pool())
        .unwrap();
    let forest = |seed: u64| {
        let params = options.clone().seed(seed).check().unwrap();
        RandomForest::fit(&pooled, &params.forest().clone().into_inner()).unwrap()
    };
    assert_eq!(
        evaluation.model(ModelKind::RandomForest).unwrap().estimator,
        Estimator::Forest(forest(42))
    );
    assert_ne!(forest(42), forest(7));
    // A forest of no trees is refused, never quietly grown with one.
    let none = ForestParameters::default().with_trees(0);
    assert_eq!(none.trees(), 0);
    assert!(matches!(
        RandomForest::fit(&pooled, &none),
        Err(Error::Parameter { name: "trees", .. })
    ));

    // Class weights: without them the 0.5 threshold leans to the majority (PNEUMONIA), so the
    // weighted model finds more of the NORMAL images at 0.5; the threshold chosen on validation
    // is what the notebook says corrects it.
    let weights = train::class_weights_compared(&features, &options).unwrap();
    println!("{weights}");
    assert_eq!(weights.height(), 4);
    let specificity = frame::floats(&weights, "specificity").unwrap();
    assert!(
        specificity[0] >= specificity[2],
        "weighted specificity at 0.5 ({}) below the unweighted one ({})",
        specificity[0],
        specificity[2]
    );
    // The toolbox: smartcore's models on block means, in the evaluation's columns, each above
    // chance and the linear SVM well above it (k-nearest neighbours and naive Bayes, which
    // weigh every block's brightness alike, reach only 0.55-0.58 here), and its table stacks
    // under ours.
    let toolbox = train::toolbox::compare(
        &features,
        options.check().unwrap().pool(),
        &ToolboxModel::DEFAULTS,
    )
    .unwrap();
    println!("{toolbox}");
    assert_eq!(toolbox.height(), 3);
    let ours = evaluation.table("test").unwrap();
    assert_eq!(ours.get_column_names(), toolbox.get_column_names());
    assert_eq!(ours.vstack(&toolbox).unwrap().height(), ours.height() + 3);
    let auc = frame::floats(&toolbox, "roc_auc").unwrap();
    assert!(
        auc.iter().all(|&a| a > 0.5) && auc[2] > 0.75,
        "toolbox ROC AUC {auc:?}"
    );

    // The model figures draw something in both formats, and say so when asked for nothing.
    let figures = [
        plot::roc_curves(&evaluation, "test").unwrap(),
        plot::confusion_matrices(&evaluation, "test").unwrap(),
        plot::score_histograms(&evaluation, ModelKind::LogisticRegression, "test").unwrap(),
        plot::coefficient_image(evaluation.model(ModelKind::LinearRegression).unwrap()).unwrap(),
    ];
    let out = tempfile::tempdir().unwrap();
    for (k, figure) in figures.iter().enumerate() {
        let rgb = figure.to_rgb().unwrap();
        let drawn = rgb
            .chunks_exact(3)
            .filter(|p| p.iter().any(|&c| c < 240))
            .count() as f64
            / (rgb.len() / 3) as f64;
        assert!(
            drawn > 0.02 && drawn < 0.95,
            "{}: drawn fraction {drawn}",
            figure.title()
        );
        // Each figure carries a class or model colour, not only black text on white.
        let coloured = rgb.chunks_exact(3).filter(|p| {
            let (lo, hi) = (*p.iter().min().unwrap(), *p.iter().max().unwrap());
            hi - lo > 60
        });
        assert!(
            coloured.count() > 200,
            "{}: no colour drawn",
            figure.title()
        );
        for file in figure.save(out.path().join(format!("figure{k}"))).unwrap() {
            assert!(
                std::fs::metadata(&file).unwrap().len() > 1000,
                "{}",
                file.display()
            );
        }
    }
    assert!(plot::roc_curves(&evaluation, "nowhere")
        .unwrap_err()
        .to_string()
        .contains("nowhere"));
    let tree = evaluation.model(ModelKind::DecisionTree).unwrap();
    assert!(plot::coefficient_image(tree)
        .unwrap_err()
        .to_string()
        .contains("not linear"));

    // Saved and loaded, a model predicts one file as it scored it in the evaluation.
    let saved = tempfile::tempdir().unwrap();
    let files = evaluation.save_models(saved.path()).unwrap();
    assert_eq!(files.len(), evaluation.models.len());
    // Every kind: pixels, block means, components of block means, and file facts. (The linear
    // regression's file prediction is its score clipped to [0, 1].)
    let test_paths = Samples::from_features(&features, "test")
        .unwrap()
        .paths()
        .to_vec();
    // (The models on pretrained embeddings are tested in tests/pretrained.rs.)
    for kind in ModelKind::ALL.into_iter().filter(|k| !k.is_pretrained()) {
        let scored = evaluation.result(kind, "test").unwrap();
        let model = Model::load(saved.path().join(format!("{}.json", kind.file_stem()))).unwrap();
        assert_eq!(model.kind, kind);
        for (path, (score, _)) in test_paths.iter().zip(&scored.scores).take(5) {
            let p = model.predict_file(path).unwrap();
            let want = score.clamp(0.0, 1.0);
            assert!((p - want).abs() < 1e-6, "{kind}: {path}: {p} vs {want}");
        }
    }
    let model = Model::load(saved.path().join("logistic_regression.json")).unwrap();

    // Features decoded with other settings are refused, naming both.
    let other_size = decode::features(
        features.images(),
        &DecodeOptions::new()
            .size(64)
            .progress(Progress::Quiet)
            .cache(false),
    )
    .unwrap();
    let error = model.scores_of(&other_size, "test").unwrap_err();
    assert!(matches!(error, Error::Incompatible { .. }), "{error}");
    let error = error.to_string();
    assert!(error.contains("150") && error.contains("64"), "{error}");
    // A file that is not an image gets an error naming it.
    let junk = saved.path().join("junk.jpeg");
    std::fs::write(&junk, b"not a jpeg").unwrap();
    let error = model.predict_file(&junk).unwrap_err().to_string();
    assert!(error.contains("junk.jpeg"), "{error}");
}

#[test]
fn evaluation_needs_both_classes_in_every_subset() {
    let dir = synthetic(0.02);
    let dataset = load::scan(dir.path()).unwrap();
    // No resplit: there is no validation subset.
    let features = decode::features(
        &dataset.images,
        &DecodeOptions::new().progress(Progress::Quiet).cache(false),
    )
    .unwrap();
    let error = train::evaluate(&features, &TrainOptions::new()).unwrap_err();
    assert!(
        matches!(&error, Error::OneClass { what, .. } if what.contains("validation")),
        "{error}"
    );
}

#[test]
fn the_train_command_writes_models_and_sane_metrics() {
    let dir = synthetic(0.1);
    let out = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_xray-lab"))
        .args(["train", "--json", "--data"])
        .arg(dir.path())
        .arg("--out")
        .arg(out.path())
        .env("XRAY_LAB_CACHE", cache.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("metrics.json")).unwrap()).unwrap();
    assert_eq!(printed, written);
    let models = written["models"].as_array().unwrap();
    // Every model but those on pretrained embeddings (`--pretrained`).
    let kinds = ModelKind::ALL.iter().filter(|k| !k.is_pretrained()).count();
    assert_eq!(models.len(), kinds);
    for model in models {
        assert!(out.path().join(model["file"].as_str().unwrap()).exists());
    }
    let metrics = written["metrics"].as_array().unwrap();
    assert_eq!(metrics.len(), kinds * 3);
    for row in metrics {
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
        assert!(row["r2"].as_f64().unwrap() <= 1.0);
    }
    assert!(out.path().join("split.csv").exists());
    // A missing root is an error that names it.
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_xray-lab"))
        .args(["train", "--data", "/no/such/root", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("/no/such/root"));
}
