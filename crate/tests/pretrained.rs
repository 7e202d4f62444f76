//! The pretrained network against PyTorch: the same embeddings and ImageNet scores on the same
//! pixels (the reference was written by bench/pretrained_reference.py with the network's own
//! PyTorch code), and natural photos classified as what they show.

use std::path::{Path, PathBuf};

use xray_lab::pretrained::{self, Network, CLASSES, EMBEDDING_SIZE};

/// ImageNet's class indices that the photos must come out as.
const ESPRESSO: usize = 967;
const CATS: [usize; 3] = [281, 282, 285]; // tabby, tiger cat, Egyptian cat

fn network() -> Network {
    // The set-up fetches the weights; a missing file fails with the way to get it.
    Network::from_cache().unwrap_or_else(|e| panic!("{e}"))
}

fn reference() -> serde_json::Value {
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pretrained-reference.json");
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
    pretrained::photos_folder().join(name)
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
    let bytes = std::fs::read(pretrained::weights_path()).unwrap();
    let cut = tmp.path().join("cut.pth");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let err = Network::load(&cut)
        .err()
        .expect("a truncated file must fail")
        .to_string();
    assert!(err.contains("cut.pth") && err.contains("ends"), "{err}");
}
