//! Decoding: image facts, features, bad input (each case decoded or rejected with its reason),
//! mutated JPEG bytes, and the feature cache.

mod common;

use std::path::{Path, PathBuf};

use image::{GrayImage, ImageBuffer, Luma, Rgba};
use proptest::prelude::*;
use xray_lab::prelude::*;

fn real_sample() -> PathBuf {
    common::real_sample()
}

fn real_jpeg() -> Vec<u8> {
    std::fs::read(real_sample().join("NORMAL/NORMAL2-IM-1427-0001.jpeg")).unwrap()
}

fn strings(df: &DataFrame, name: &str) -> Vec<String> {
    frame::column(df, name)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.unwrap_or_default().to_string())
        .collect()
}

fn quiet() -> DecodeOptions {
    DecodeOptions::new().progress(Progress::Quiet).cache(false)
}

fn png(image: impl Into<image::DynamicImage>) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image
        .into()
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

fn jpeg(pixels: &[u8], w: u16, h: u16, color: jpeg_encoder::ColorType) -> Vec<u8> {
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 90)
        .encode(pixels, w, h, color)
        .unwrap();
    out
}

/// A baseline JPEG whose SOF header is patched to claim `w x h` pixels.
fn jpeg_claiming(w: u16, h: u16) -> Vec<u8> {
    let mut bytes = jpeg(&[128; 64 * 64], 64, 64, jpeg_encoder::ColorType::Luma);
    let sof = bytes
        .windows(2)
        .position(|m| m == [0xFF, 0xC0])
        .expect("a baseline SOF0 marker");
    // FF C0, length (2), precision (1), height (2), width (2).
    bytes[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    bytes
}

/// A PNG whose IHDR claims `w x h` pixels (with a valid checksum).
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut bytes = png(GrayImage::new(8, 8));
    // Signature (8), length (4), "IHDR" (4), then width and height.
    bytes[16..20].copy_from_slice(&w.to_be_bytes());
    bytes[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32fast::hash(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

/// A dataset folder with two good real X-rays and one file for each kind of bad input, and what
/// each bad file should produce: `Ok(())` decoded, `Err(words)` rejected with a reason
/// containing `words`.
fn troubled_dataset(root: &Path) -> Vec<(&'static str, Result<(), &'static str>)> {
    let dir = root.join("train/NORMAL");
    std::fs::create_dir_all(&dir).unwrap();
    let real = real_jpeg();
    let gradient = GrayImage::from_fn(300, 200, |x, _| Luma([(x * 255 / 299) as u8]));
    let l16 =
        ImageBuffer::<Luma<u16>, _>::from_fn(300, 200, |x, _| Luma([(x * 65535 / 299) as u16]));
    let rgba =
        ImageBuffer::<Rgba<u8>, _>::from_fn(300, 200, |x, _| Rgba([200, 100, 50, (x % 256) as u8]));
    let cmyk: Vec<u8> = (0..300 * 200).flat_map(|_| [0u8, 0, 0, 0]).collect();
    let mut corrupt = real.clone();
    let middle = corrupt.len() / 2;
    for b in &mut corrupt[middle..middle + 2000] {
        *b = 0xA5;
    }
    let cases: Vec<(&'static str, Vec<u8>, Result<(), &'static str>)> = vec![
        ("good-1.jpeg", real.clone(), Ok(())),
        (
            "good-2.jpeg",
            std::fs::read(real_sample().join("PNEUMONIA/person1946_bacteria_4874.jpeg")).unwrap(),
            Ok(()),
        ),
        ("zero-bytes.jpeg", vec![], Err("empty file")),
        (
            "text.jpeg",
            b"this is not an image\n".repeat(20),
            Err("not an image"),
        ),
        ("truncated-header.jpeg", real[..300].to_vec(), Err("JPEG")),
        ("png-named.jpeg", png(gradient.clone()), Ok(())),
        ("gray16.png", png(l16), Ok(())),
        ("alpha.png", png(rgba), Ok(())),
        (
            "cmyk.jpeg",
            jpeg(&cmyk, 300, 200, jpeg_encoder::ColorType::Cmyk),
            Ok(()),
        ),
        (
            "bomb.jpeg",
            jpeg_claiming(60_000, 60_000),
            Err("over the limit"),
        ),
        (
            "bomb.png",
            png_claiming(60_000, 60_000),
            Err("over the limit"),
        ),
    ];
    for (name, bytes, _) in &cases {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    // Corrupt and truncated files are decoded as far as the decoder can go or rejected; either is
    // fine, never a panic nor a stopped run. They are checked apart.
    std::fs::write(dir.join("corrupt-middle.jpeg"), &corrupt).unwrap();
    std::fs::write(dir.join("truncated-half.jpeg"), &real[..real.len() / 2]).unwrap();
    cases.into_iter().map(|(n, _, e)| (n, e)).collect()
}

#[test]
fn every_bad_file_is_decoded_or_rejected_with_its_reason_and_the_run_completes() {
    let tmp = tempfile::tempdir().unwrap();
    let expected = troubled_dataset(tmp.path());
    let dataset = load::scan(tmp.path()).unwrap();
    assert_eq!(dataset.len(), expected.len() + 2);
    let features = decode::features(&dataset.images, &quiet()).unwrap();
    assert_eq!(features.rows() + features.rejects.len(), dataset.len());
    let decoded = strings(features.images(), "path");
    for (name, outcome) in &expected {
        let reject = features
            .rejects
            .iter()
            .find(|r| r.path.file_name().unwrap() == *name);
        match outcome {
            Ok(()) => {
                assert!(reject.is_none(), "{name} should decode, got {reject:?}");
                assert!(decoded.iter().any(|p| p.ends_with(name)), "{name} missing");
            }
            Err(words) => {
                let reject = reject.unwrap_or_else(|| panic!("{name} should be rejected"));
                assert!(
                    reject.reason.to_string().contains(words),
                    "{name}: reason {:?} should say {words:?}",
                    reject.reason
                );
            }
        }
    }
    // The rejects table names each file and its reason.
    let table = features.rejects_frame().unwrap();
    assert_eq!(table.height(), features.rejects.len());
    assert!(strings(&table, "reason").iter().all(|r| !r.is_empty()));
    // Every decoded row is 22,500 values in [0, 1].
    assert_eq!(features.cols(), 22_500);
    assert!(features.matrix().iter().all(|v| (0.0..=1.0).contains(v)));
}

#[test]
fn special_formats_decode_to_the_right_gray_values() {
    let options = quiet().size(10);
    // CMYK with no ink is white.
    let cmyk: Vec<u8> = (0..64 * 64).flat_map(|_| [0u8, 0, 0, 0]).collect();
    let white = decode::decode_bytes(
        &jpeg(&cmyk, 64, 64, jpeg_encoder::ColorType::Cmyk),
        &options,
    )
    .unwrap();
    assert!(
        white.pixels().all(|p| p.0[0] >= 250),
        "{:?}",
        white.as_raw()
    );
    // 16-bit grayscale keeps the high byte (as PIL's I;16 -> L).
    let l16 = ImageBuffer::<Luma<u16>, _>::from_pixel(40, 40, Luma([0x8000]));
    let gray = decode::decode_bytes(&png(l16), &options).unwrap();
    assert!(gray.pixels().all(|p| p.0[0] == 128), "{:?}", gray.as_raw());
    // Alpha is dropped; RGB becomes ITU-R 601-2 luma as PIL's convert("L"): (200, 100, 50) -> 124.
    let rgba = ImageBuffer::<Rgba<u8>, _>::from_pixel(40, 40, Rgba([200, 100, 50, 10]));
    let luma = decode::decode_bytes(&png(rgba), &options).unwrap();
    assert!(luma.pixels().all(|p| p.0[0] == 124), "{:?}", luma.as_raw());
    // The pixel limit is an option.
    let big = png(GrayImage::new(100, 100));
    let err = decode::decode_bytes(&big, &options.clone().max_pixels(5_000)).unwrap_err();
    assert!(
        matches!(
            err,
            decode::RejectReason::TooLarge {
                width: 100,
                height: 100,
                limit: 5_000
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("100 x 100"), "{err}");
}

#[test]
fn dct_downscaling_stays_close_to_full_decoding_on_real_xrays() {
    let bytes = real_jpeg();
    let fast = decode::decode_bytes(&bytes, &quiet()).unwrap();
    let exact = decode::decode_bytes(&bytes, &quiet().exact(true)).unwrap();
    assert_eq!(fast.dimensions(), (150, 150));
    assert_eq!(exact.dimensions(), (150, 150));
    let mad = fast
        .as_raw()
        .iter()
        .zip(exact.as_raw())
        .map(|(a, b)| (*a as f64 - *b as f64).abs())
        .sum::<f64>()
        / (150.0 * 150.0);
    // On the 0-255 scale; the README quotes the measured value over all real samples.
    assert!(mad < 3.0, "mean absolute difference {mad}");
    assert!(
        fast.as_raw() != exact.as_raw(),
        "DCT scaling should not be a no-op here"
    );
}

#[test]
fn facts_come_from_headers_and_match_the_decoded_images() {
    let cache = tempfile::tempdir().unwrap();
    let facts = facts::facts_in(
        &load::scan(real_sample()).unwrap().images,
        &xray_lab::cache::Caches::in_folder(cache.path()),
    )
    .unwrap();
    assert_eq!(facts.height(), 16);
    let widths = frame::column(&facts, "width")
        .unwrap()
        .u32()
        .unwrap()
        .clone();
    let modes = strings(&facts, "mode");
    assert!(modes.iter().all(|m| m == "L"), "{modes:?}");
    let progressive = frame::column(&facts, "progressive")
        .unwrap()
        .bool()
        .unwrap()
        .clone();
    assert!(progressive.iter().all(|p| p == Some(false)));
    let first =
        image::image_dimensions(real_sample().join("NORMAL/NORMAL2-IM-1427-0001.jpeg")).unwrap();
    assert_eq!(widths.get(0), Some(first.0));
    assert!(widths.iter().all(|w| (900..=1800).contains(&w.unwrap())));

    // Bad files get a facts_error and null facts, not a failure.
    let tmp = tempfile::tempdir().unwrap();
    troubled_dataset(tmp.path());
    let facts = facts::facts_in(
        &load::scan(tmp.path()).unwrap().images,
        &xray_lab::cache::Caches::in_folder(cache.path()),
    )
    .unwrap();
    let errors = frame::column(&facts, "facts_error")
        .unwrap()
        .str()
        .unwrap()
        .clone();
    let paths = strings(&facts, "path");
    for (path, error) in paths.iter().zip(errors.iter()) {
        if path.ends_with("zero-bytes.jpeg") || path.ends_with("text.jpeg") {
            assert!(error.is_some(), "{path}");
        }
        if path.ends_with("gray16.png") {
            assert!(error.is_none());
        }
    }
    let modes = strings(&facts, "mode");
    assert!(modes.contains(&"CMYK".to_string()) && modes.contains(&"I;16".to_string()));

    let stats = facts::size_stats(&facts, "class").unwrap();
    assert_eq!(stats.height(), 1);
}

#[test]
fn features_follow_the_table_order_and_match_single_file_decoding() {
    let dataset = load::scan(real_sample()).unwrap();
    let features = decode::features(&dataset.images, &quiet().size(32)).unwrap();
    assert_eq!((features.rows(), features.cols()), (16, 32 * 32));
    assert!(features.rejects.is_empty());
    assert_eq!(
        strings(features.images(), "path"),
        strings(&dataset.images, "path")
    );
    assert_eq!(features.labels().iter().filter(|&&l| l == 1).count(), 8);
    let paths = strings(&dataset.images, "path");
    for i in [0, 7, 15] {
        let one = decode::decode_file(&paths[i], &quiet().size(32)).unwrap();
        let row: Vec<f32> = one.as_raw().iter().map(|&v| v as f32 / 255.0).collect();
        assert_eq!(features.row(i), &row[..]);
    }
    // Statistics: per class, and the per-image mean matches the matrix.
    let stats = features.intensity_stats("class").unwrap();
    assert_eq!(stats.height(), 2);
    let per_split = features.intensity_stats("split").unwrap();
    assert_eq!(strings(&per_split, "class"), ["NORMAL", "PNEUMONIA", "all"]);
    let images = frame::column(&per_split, "images")
        .unwrap()
        .u32()
        .unwrap()
        .clone();
    assert_eq!(images.iter().flatten().collect::<Vec<_>>(), [8, 8, 16]);
    let mean0 = frame::column(features.images(), "mean")
        .unwrap()
        .f64()
        .unwrap()
        .get(0)
        .unwrap();
    let row_mean = features.row(0).iter().map(|&v| v as f64).sum::<f64>() / 1024.0 * 255.0;
    assert!((mean0 - row_mean).abs() < 1e-3, "{mean0} vs {row_mean}");
    let hist = features.intensity_histograms().unwrap();
    assert!(hist.height() > 0);
}

#[test]
fn the_cache_reloads_unchanged_files_and_decodes_changed_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let cache = tmp.path().join("cache");
    synth::SynthOptions::new().scale(0.01).write(&data).unwrap();
    // The cache folder travels with the options: no environment variable is touched.
    let options = DecodeOptions::new()
        .progress(Progress::Quiet)
        .size(40)
        .cache_in(&cache);
    let images = load::scan(&data).unwrap().images;

    let first = decode::features(&images, &options).unwrap();
    assert_eq!(first.decoded, first.rows());
    // One cache file per dataset folder (and setting).
    let file = options.cache_file(&data);
    assert!(file.exists(), "{} missing", file.display());
    assert!(file.starts_with(&cache));

    let second = decode::features(&images, &options).unwrap();
    assert_eq!(
        second.decoded, 0,
        "an unchanged dataset loads from the cache"
    );
    assert_eq!(second.matrix(), first.matrix());
    assert_eq!(second.histograms(), first.histograms());

    // Header facts and content hashes are cached per file too.
    let facts_before =
        facts::facts_in(&images, &xray_lab::cache::Caches::in_folder(&cache)).unwrap();
    let hashes_before =
        split::add_content_hash_in(&images, &xray_lab::cache::Caches::in_folder(&cache)).unwrap();
    assert!(cache.join("files-v3.json").exists());
    assert_eq!(
        facts::facts_in(&images, &xray_lab::cache::Caches::in_folder(&cache)).unwrap(),
        facts_before
    );
    assert_eq!(
        split::add_content_hash_in(&images, &xray_lab::cache::Caches::in_folder(&cache)).unwrap(),
        hashes_before
    );

    // A changed file (new bytes, new size) is decoded again, and only it.
    let paths = strings(&images, "path");
    let changed = &paths[3];
    let other = std::fs::read(&paths[5]).unwrap();
    std::fs::write(changed, &other).unwrap();
    // ... and its facts and hash are read again (they now equal those of the file it copies).
    let facts_after =
        facts::facts_in(&images, &xray_lab::cache::Caches::in_folder(&cache)).unwrap();
    let widths = frame::column(&facts_after, "width")
        .unwrap()
        .u32()
        .unwrap()
        .clone();
    assert_eq!(widths.get(3), widths.get(5));
    let hashes = strings(
        &split::add_content_hash_in(&images, &xray_lab::cache::Caches::in_folder(&cache)).unwrap(),
        "content_hash",
    );
    let before = strings(&hashes_before, "content_hash");
    assert_ne!(before[3], before[5]);
    assert_eq!(hashes[3], hashes[5]);
    let third = decode::features(&images, &options).unwrap();
    assert_eq!(third.decoded, 1);
    assert_eq!(third.row(3), first.row(5));

    // Other settings, another cache file.
    let exact = options.clone().exact(true);
    assert_ne!(exact.cache_file(&data), file);

    // Another dataset gets a file of its own and leaves this one as it was.
    let other = tmp.path().join("other");
    synth::SynthOptions::new()
        .scale(0.01)
        .seed(3)
        .write(&other)
        .unwrap();
    let before = std::fs::read(&file).unwrap();
    let elsewhere = decode::features(&load::scan(&other).unwrap().images, &options).unwrap();
    assert_eq!(elsewhere.decoded, elsewhere.rows());
    assert!(options.cache_file(&other).exists());
    assert_eq!(std::fs::read(&file).unwrap(), before);

    // A damaged cache file is ignored (and rebuilt), never trusted.
    std::fs::write(&file, b"not arrow").unwrap();
    let fourth = decode::features(&images, &options).unwrap();
    assert_eq!(fourth.decoded, fourth.rows());
    assert_eq!(fourth.matrix(), third.matrix());
    // A half-written cache (a crash before the rename) leaves no temporary file that loads.
    let leftovers: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // The feature file is what `xray-lab features --out` writes: read it back with polars.
    let out = tmp.path().join("features.arrow");
    fourth.save(&out).unwrap();
    let table = cache::read_table(&out).unwrap();
    assert_eq!(table.height(), fourth.rows());
    assert!(frame::has_column(&table, "features") && frame::has_column(&table, "label"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    /// Random damage to a real X-ray: flipped bytes, a cut, inserted garbage. The decoder either
    /// returns a 150x150 image or an error; it never panics out, never hangs.
    #[test]
    fn mutated_jpeg_bytes_never_escape_the_decoder(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..20),
        cut in proptest::option::of(any::<prop::sample::Index>()),
        insert in proptest::option::of((any::<prop::sample::Index>(), proptest::collection::vec(any::<u8>(), 1..64))),
    ) {
        let mut bytes = real_jpeg();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if let Some((at, garbage)) = insert {
            let i = at.index(bytes.len());
            bytes.splice(i..i, garbage);
        }
        if let Some(at) = cut {
            bytes.truncate(at.index(bytes.len()));
        }
        let options = quiet().max_pixels(20_000_000);
        match decode::decode_bytes(&bytes, &options) {
            Ok(image) => prop_assert_eq!(image.dimensions(), (150, 150)),
            Err(reason) => prop_assert!(!reason.to_string().is_empty()),
        }
    }

    /// Random bytes (behind a JPEG, a PNG or no signature) are rejected with a reason.
    #[test]
    fn random_bytes_are_rejected_with_a_reason(
        head in prop::sample::select(vec![vec![0xFFu8, 0xD8, 0xFF], b"\x89PNG\r\n\x1a\n".to_vec(), vec![]]),
        tail in proptest::collection::vec(any::<u8>(), 0..4096),
    ) {
        let mut bytes = head;
        bytes.extend(tail);
        if let Ok(image) = decode::decode_bytes(&bytes, &quiet()) {
            prop_assert_eq!(image.dimensions(), (150, 150));
        } else {
            prop_assert!(decode::decode_bytes(&bytes, &quiet()).unwrap_err().to_string().len() > 3);
        }
    }
}
