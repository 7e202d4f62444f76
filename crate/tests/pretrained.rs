//! The pretrained network against PyTorch: the same embeddings and ImageNet scores on the same
//! pixels (the reference was written by bench/pretrained_reference.py with the network's own
//! PyTorch code), and natural photos classified as what they show.

mod common;

use std::path::PathBuf;

use xray_lab::prelude::*;
use xray_lab::pretrained::{Network, CLASSES, EMBEDDING_SIZE};

/// ImageNet's class indices that the photos must come out as.
const ESPRESSO: usize = 967;
const CATS: [usize; 3] = [281, 282, 285]; // tabby, tiger cat, Egyptian cat

fn network() -> Network {
    // The set-up fetches the weights; a missing file fails with the way to get it.
    Network::from_cache().unwrap_or_else(|e| panic!("{e}"))
}

fn reference() -> serde_json::Value {
    let file = common::crate_dir().join("tests/fixtures/pretrained-reference.json");
    serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap()
}

fn floats(v: &serde_json::Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

fn photo(name: &str) -> PathBuf {
    xray_lab::pretrained::photos_folder().join(name)
}

#[test]
fn embeddings_and_logits_match_pytorch_within_1e4() {
    let network = network();
    let reference = reference();
    for case in reference["inputs"].as_array().unwrap() {
        let name = case["photo"].as_str().unwrap();
        let rgb = image::open(photo(name)).unwrap().to_rgb8();
        let (left, top) = (
            case["left"].as_u64().unwrap() as u32,
            case["top"].as_u64().unwrap() as u32,
        );
        let crop = image::imageops::crop_imm(&rgb, left, top, 224, 224).to_image();
        let input = if case["gray"].as_bool().unwrap() {
            // The red channel as a grayscale image, as the reference did.
            let gray =
                image::GrayImage::from_fn(224, 224, |x, y| image::Luma([crop.get_pixel(x, y)[0]]));
            network.input_from_gray(&gray)
        } else {
            network.input_from_rgb(&crop)
        };
        let output = network.run(&input);
        let (embedding, logits) = (floats(&case["embedding"]), floats(&case["logits"]));
        assert_eq!(output.embedding.len(), EMBEDDING_SIZE);
        assert_eq!(output.logits.len(), CLASSES);
        let worst = |ours: &[f32], theirs: &[f32]| {
            ours.iter()
                .zip(theirs)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max)
        };
        let (e, l) = (
            worst(&output.embedding, &embedding),
            worst(&output.logits, &logits),
        );
        assert!(
            e <= 1e-4,
            "{name}: embedding differs from PyTorch's by up to {e}"
        );
        assert!(
            l <= 1e-4,
            "{name}: logits differ from PyTorch's by up to {l}"
        );
        // The embedding is not trivially small: the comparison means something.
        assert!(embedding.iter().cloned().fold(0f32, f32::max) > 1.0);
    }
}

#[test]
fn natural_photos_are_classified_as_what_they_show() {
    let network = network();
    let coffee = image::open(photo("coffee.png")).unwrap().to_rgb8();
    let cat = image::open(photo("chelsea.png")).unwrap().to_rgb8();
    let outputs = network.run_batch(&[
        network.input_from_rgb(&coffee),
        network.input_from_rgb(&cat),
    ]);
    let coffee_top = outputs[0].top(1)[0];
    assert_eq!(
        coffee_top.0, ESPRESSO,
        "coffee.png: top class {coffee_top:?}"
    );
    assert!(
        coffee_top.1 > 0.5,
        "coffee.png: espresso at {}",
        coffee_top.1
    );
    let cat_top = outputs[1].top(1)[0];
    assert!(
        CATS.contains(&cat_top.0),
        "chelsea.png: top class {cat_top:?}"
    );
}

#[test]
fn batches_give_the_same_outputs_as_single_images() {
    let network = network();
    let cat = image::open(photo("chelsea.png")).unwrap().to_luma8();
    let input = network.input_from_gray(&cat);
    let alone = network.run(&input);
    let batch = network.run_batch(&[input.clone(), input.clone(), input]);
    assert!(batch.iter().all(|o| *o == alone));
}

#[test]
fn a_missing_or_wrong_weight_file_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("efficientnet-lite0-57934424.pth");
    let err = Network::load(&missing)
        .err()
        .expect("a missing file must fail")
        .to_string();
    assert!(
        err.contains("fetch_pretrained.py") && err.contains(&*missing.to_string_lossy()),
        "{err}"
    );

    let wrong = tmp.path().join("not-weights.pth");
    std::fs::write(&wrong, b"PK\x03\x04 a zip, not a legacy torch file").unwrap();
    let err = Network::load(&wrong)
        .err()
        .expect("a wrong file must fail")
        .to_string();
    assert!(
        err.contains("not-weights.pth") && err.contains("magic"),
        "{err}"
    );

    // A truncated copy of the real file names the file and where it ends.
    let bytes = std::fs::read(xray_lab::pretrained::weights_path()).unwrap();
    let cut = tmp.path().join("cut.pth");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let err = Network::load(&cut)
        .err()
        .expect("a truncated file must fail")
        .to_string();
    assert!(err.contains("cut.pth") && err.contains("ends"), "{err}");
}

#[test]
fn embeddings_of_a_dataset_keep_its_order_list_its_rejects_and_come_back_from_the_cache() {
    let network = network();
    let tmp = tempfile::tempdir().unwrap();
    // The real sample plus one broken file: the run completes and names it.
    let root = tmp.path().join("data");
    let files = walkdir::WalkDir::new(common::real_sample())
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpeg"));
    for entry in files {
        let to = root.join(entry.strip_prefix(common::real_sample()).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &to).unwrap();
    }
    std::fs::write(root.join("NORMAL/broken.jpeg"), b"\xFF\xD8\xFF not really").unwrap();
    let dataset = load::scan(&root).unwrap();
    let options = DecodeOptions::new()
        .progress(Progress::Quiet)
        .cache_in(tmp.path().join("cache"));

    let first = decode::embeddings(&dataset.images, &network, &options).unwrap();
    assert_eq!((first.rows(), first.cols()), (16, EMBEDDING_SIZE));
    assert_eq!(first.network(), Some("efficientnet-lite0"));
    assert_eq!(first.rejects.len(), 1);
    assert!(first.rejects[0].path.ends_with("broken.jpeg"));
    assert_eq!(first.decoded, 16);

    // Row i is the embedding of the i-th good file, decoded alone.
    let paths = frame::strings(first.images(), "path").unwrap();
    let one = decode::decode_file(&paths[3], &options.clone().size(224)).unwrap();
    let alone = network.run(&network.input_from_gray(&one)).embedding;
    assert_eq!(first.row(3), &alone[..]);

    let second = decode::embeddings(&dataset.images, &network, &options).unwrap();
    assert_eq!(second.decoded, 0, "the second run reads the cache");
    assert_eq!(second.matrix(), first.matrix());
    // Pixel features of the same images keep a cache of their own.
    let pixels = decode::features(&dataset.images, &options).unwrap();
    assert_eq!(
        (pixels.cols(), pixels.decoded, pixels.network()),
        (150 * 150, 16, None)
    );

    // The pixel models refuse embeddings with the way to train on them, never a panic.
    let err = train::evaluate(&first, &TrainOptions::new()).err().unwrap();
    assert!(matches!(err, Error::Incompatible { .. }), "{err}");
    let err = err.to_string();
    assert!(
        err.contains("embeddings") && err.contains("Samples::from_features"),
        "{err}"
    );

    // Saved, the rows read back as a list column named `embedding`.
    let file = tmp.path().join("embeddings.arrow");
    first.save(&file).unwrap();
    let table = xray_lab::cache::read_table(&file).unwrap();
    assert_eq!(table.height(), 16);
    assert!(table.column("embedding").is_ok());
}

#[test]
fn models_on_embeddings_join_the_evaluation_the_report_and_predict_files() {
    let network = network();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("data");
    SynthOptions::new().scale(0.1).write(&root).unwrap();
    let cache = dir.path().join("cache");
    let dataset = load::scan(&root).unwrap();
    let images =
        split::split_with(&dataset, None, &ResplitOptions::new().cache_in(&cache)).unwrap();
    let decode = DecodeOptions::new()
        .size(32)
        .progress(Progress::Quiet)
        .cache_in(&cache);
    let features = decode::features(&images, &decode).unwrap();
    let options = TrainOptions::new().trees(20);
    let mut evaluation = train::evaluate(&features, &options).unwrap();
    let pixel_models = evaluation.models.len();
    let embeddings = decode::embeddings(&images, &network, &decode).unwrap();
    evaluation.add_pretrained(&embeddings, &options).unwrap();
    assert_eq!(evaluation.models.len(), pixel_models + 2);

    // One table: pixels, the shortcut check and the embeddings, each with its fit time.
    let table = evaluation.table("test").unwrap();
    let models = frame::strings(&table, "model").unwrap();
    let inputs = frame::strings(&table, "features").unwrap();
    let auc = frame::floats(&table, "roc_auc").unwrap();
    let fit = frame::floats(&table, "fit_seconds").unwrap();
    for kind in [ModelKind::PretrainedLogistic, ModelKind::PretrainedForest] {
        let row = models.iter().position(|m| m == kind.name()).unwrap();
        assert_eq!(inputs[row], "efficientnet-lite0 embeddings (1280)");
        assert!(fit[row] > 0.0);
        // The phantom's pneumonia is visible: an ImageNet network's features separate it.
        assert!(auc[row] > 0.7, "{kind}: test ROC AUC {}", auc[row]);
    }
    assert!(models.iter().any(|m| m == ModelKind::ShortcutForest.name()));

    // A 2-D view of the embeddings: a point per image, fitted on train.
    let view = train::projection(&embeddings, "train").unwrap();
    assert_eq!(view.height(), embeddings.rows());
    let pc1 = frame::floats(&view, "pc1").unwrap();
    assert!(pc1.iter().all(|v| v.is_finite()) && pc1.iter().any(|v| *v != 0.0));
    let figure = plot::scatter_by_class(&view, "pc1", "pc2", "Embeddings").unwrap();
    let saved = figure.save(dir.path().join("view")).unwrap();
    assert!(saved.iter().all(|f| f.exists()));

    // Saved and loaded, the model predicts a file as it scored it in the evaluation.
    let model = evaluation.model(ModelKind::PretrainedLogistic).unwrap();
    let file = dir.path().join("model.json");
    model.save(&file).unwrap();
    let loaded = Model::load(&file).unwrap();
    let scores = loaded.scores_of(&embeddings, "test").unwrap();
    let first = Samples::from_features(&embeddings, "test").unwrap().paths()[0].clone();
    let predicted = loaded.predict_file(&first).unwrap();
    assert!(
        (predicted - scores[0].clamp(0.0, 1.0)).abs() < 1e-6,
        "{predicted} vs {}",
        scores[0]
    );
    // Its occlusion map: each covered copy embedded by the network and scored; the whole
    // film's score is the one it predicts.
    // (The network reads 224x224 images: 16 patches of 56 pixels keep it to 17 runs.)
    let map = loaded.occlusion(&first, 56, 56).unwrap();
    assert_eq!(map.side, 224);
    assert!(
        (map.score - predicted).abs() < 1e-6,
        "{} vs {predicted}",
        map.score
    );
    assert!(map.peak() > 0.0);
    // Pixels given to a model that reads embeddings: refused, with the reason.
    let err = loaded.scores_of(&features, "test").err().unwrap();
    assert!(
        matches!(&err, Error::Incompatible { reason, .. } if reason.contains("embeddings")),
        "{err}"
    );

    // The report's pipeline with `pretrained` adds the same two models (embeddings from the
    // cache this time).
    let run = report::run(
        &root,
        &report::ReportOptions {
            decode: decode.clone(),
            resplit: ResplitOptions::new().cache_in(&cache),
            train: options.clone(),
            pretrained: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(run.evaluation.model(ModelKind::PretrainedForest).is_ok());
}
