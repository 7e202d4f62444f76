//! Scanning: what lands in the image table, what is skipped and why, and the errors.

mod common;

use std::fs;
use std::path::Path;

use xray_lab::prelude::*;

fn touch(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

fn strings(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    df.column(name)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.map(str::to_string))
        .collect()
}

#[test]
fn kaggle_layout_gives_split_class_label_patient_sorted_by_path() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    touch(
        root,
        "train/PNEUMONIA/person1946_bacteria_4874.jpeg",
        b"12345",
    );
    touch(root, "train/NORMAL/IM-0115-0001.jpeg", b"1");
    touch(root, "test/NORMAL/NORMAL2-IM-1427-0001.JPEG", b"12");
    touch(root, "val/PNEUMONIA/person1_virus_6.jpg", b"123");
    touch(root, "val/PNEUMONIA/scan.png", b"1234");

    let dataset = load::scan(root).unwrap();
    let df = &dataset.images;
    assert_eq!(
        df.get_column_names(),
        ["path", "split", "class", "label", "bytes", "patient"]
    );
    assert_eq!(df.height(), 5);
    let paths = strings(df, "path");
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted, "rows are sorted by path");
    assert_eq!(
        strings(df, "split"),
        ["test", "train", "train", "val", "val"].map(|s| Some(s.to_string()))
    );
    assert_eq!(
        strings(df, "patient"),
        [
            Some("IM-1427"),
            Some("IM-0115"),
            Some("person1946"),
            Some("person1"),
            None
        ]
        .map(|s| s.map(str::to_string))
    );
    let labels: Vec<u32> = df
        .column("label")
        .unwrap()
        .u32()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(labels, [0, 0, 1, 1, 1], "NORMAL=0, PNEUMONIA=1");
    let bytes: Vec<u64> = df
        .column("bytes")
        .unwrap()
        .u64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(bytes, [2, 1, 5, 3, 4]);
    assert_eq!(dataset.classes, ["NORMAL", "PNEUMONIA"]);
    assert!(dataset.skipped.is_empty());
}

#[test]
fn everything_skipped_is_reported_with_its_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    touch(root, "train/NORMAL/IM-0001-0001.jpeg", b"x");
    touch(root, ".DS_Store", b"x");
    touch(root, "train/NORMAL/.DS_Store", b"x");
    touch(root, "train/NORMAL/notes.txt", b"x");
    touch(root, "train/NORMAL/README", b"x");
    touch(root, "__MACOSX/train/NORMAL/._IM-0001-0001.jpeg", b"x");
    touch(root, "loose.jpeg", b"x");

    let dataset = load::scan(root).unwrap();
    assert_eq!(dataset.len(), 1);
    let reasons: Vec<(String, SkipReason)> = dataset
        .skipped
        .iter()
        .map(|s| {
            (
                s.path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                s.reason.clone(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            (".DS_Store".to_string(), SkipReason::Hidden),
            ("__MACOSX".to_string(), SkipReason::Hidden),
            ("loose.jpeg".to_string(), SkipReason::NoClassFolder),
            ("train/NORMAL/.DS_Store".to_string(), SkipReason::Hidden),
            (
                "train/NORMAL/README".to_string(),
                SkipReason::NotAnImage {
                    extension: String::new()
                }
            ),
            (
                "train/NORMAL/notes.txt".to_string(),
                SkipReason::NotAnImage {
                    extension: "txt".into()
                }
            ),
        ]
    );
    let table = dataset.skipped_frame().unwrap();
    assert_eq!(table.height(), 6);
    assert!(strings(&table, "reason")
        .iter()
        .any(|r| r.as_deref() == Some("extension .txt is not an accepted image extension")));
}

#[cfg(unix)]
#[test]
fn unreadable_entries_are_skipped_not_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    touch(root, "train/NORMAL/IM-0001-0001.jpeg", b"x");
    std::os::unix::fs::symlink(
        root.join("nowhere.jpeg"),
        root.join("train/NORMAL/broken.jpeg"),
    )
    .unwrap();
    let dataset = load::scan(root).unwrap();
    assert_eq!(dataset.len(), 1);
    assert_eq!(dataset.skipped.len(), 1);
    assert!(
        matches!(dataset.skipped[0].reason, SkipReason::Unreadable { .. }),
        "{:?}",
        dataset.skipped
    );
    assert!(dataset.skipped[0].path.ends_with("broken.jpeg"));
}

#[test]
fn extensions_are_configurable_and_case_insensitive() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    touch(root, "train/NORMAL/a.JPEG", b"x");
    touch(root, "train/NORMAL/b.jpg", b"x");
    touch(root, "train/NORMAL/c.png", b"x");
    touch(root, "train/NORMAL/d.bmp", b"x");
    assert_eq!(load::scan(root).unwrap().len(), 3);
    let only_jpeg = ScanOptions::new().extensions(["jpeg"]).scan(root).unwrap();
    assert_eq!(only_jpeg.len(), 1);
    assert_eq!(only_jpeg.skipped.len(), 3);
    assert_eq!(
        ScanOptions::new()
            .extensions([".BMP"])
            .scan(root)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn any_folder_per_class_dataset_numbers_sorted_classes() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    for rel in ["dog/1.png", "cat/1.png", "cat/2.png", "zebra/1.jpg"] {
        touch(root, rel, b"x");
    }
    let dataset = load::scan(root).unwrap();
    assert_eq!(dataset.classes, ["cat", "dog", "zebra"]);
    assert!(strings(&dataset.images, "split")
        .iter()
        .all(|s| s.as_deref() == Some(load::SINGLE_SPLIT)));
    let labels: Vec<u32> = dataset
        .images
        .column("label")
        .unwrap()
        .u32()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(labels, [0, 0, 1, 2]);
    let counts = dataset.counts().unwrap();
    assert_eq!(counts.height(), 3);
}

#[test]
fn missing_empty_and_file_roots_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("chest_xray");
    let err = load::scan(&missing).unwrap_err();
    assert!(matches!(err, Error::MissingRoot(_)));
    assert!(
        err.to_string().contains("chest_xray") && err.to_string().contains("does not exist"),
        "{err}"
    );

    touch(tmp.path(), "empty/train/NORMAL/notes.txt", b"x");
    let err = load::scan(tmp.path().join("empty")).unwrap_err();
    assert!(
        matches!(err, Error::EmptyDataset { skipped: 1, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("no images found"), "{err}");

    touch(tmp.path(), "file.jpeg", b"x");
    assert!(matches!(
        load::scan(tmp.path().join("file.jpeg")).unwrap_err(),
        Error::RootNotFolder(_)
    ));
}

#[test]
fn counts_per_split_and_class_in_report_order() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    for rel in [
        "val/NORMAL/IM-0001-0001.jpeg",
        "test/PNEUMONIA/person2_virus_1.jpeg",
        "train/NORMAL/IM-0002-0001.jpeg",
        "train/NORMAL/IM-0003-0001.jpeg",
        "train/PNEUMONIA/person3_virus_2.jpeg",
    ] {
        touch(root, rel, b"x");
    }
    let counts = load::scan(root).unwrap().counts().unwrap();
    assert_eq!(
        strings(&counts, "split"),
        ["train", "train", "test", "val"].map(|s| Some(s.to_string()))
    );
    assert_eq!(
        strings(&counts, "class"),
        ["NORMAL", "PNEUMONIA", "PNEUMONIA", "NORMAL"].map(|s| Some(s.to_string()))
    );
    let n: Vec<u32> = counts
        .column("images")
        .unwrap()
        .u32()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(n, [2, 1, 1, 1]);
}

#[test]
fn the_real_sample_scans_as_one_split_of_two_classes() {
    let root = common::real_sample();
    let dataset = load::scan(&root).unwrap();
    assert_eq!(dataset.len(), 16);
    assert_eq!(dataset.classes, ["NORMAL", "PNEUMONIA"]);
    // Every real file name yields its patient.
    assert_eq!(dataset.images.column("patient").unwrap().null_count(), 0);
    let counts = dataset.counts().unwrap();
    let n: Vec<u32> = counts
        .column("images")
        .unwrap()
        .u32()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(n, [8, 8]);
    // The fixture's README is the one thing skipped.
    assert_eq!(dataset.skipped.len(), 1);
    assert!(dataset.skipped[0].path.ends_with("README.md"));
}

#[test]
fn a_dataset_says_where_its_images_come_from() {
    // The generator's marker makes it synthetic, with its seed and scale; notebooks show this.
    let tmp = tempfile::tempdir().unwrap();
    let synthetic = tmp.path().join("synthetic");
    SynthOptions::new()
        .scale(0.01)
        .seed(5)
        .write(&synthetic)
        .unwrap();
    let dataset = load::scan(&synthetic).unwrap();
    assert_eq!(
        dataset.origin,
        Origin::Synthetic {
            seed: 5,
            scale: 0.01
        }
    );
    assert!(dataset.origin.to_string().starts_with("SYNTHETIC"));
    let overview = dataset.overview().unwrap();
    assert_eq!(
        frame::strings(&overview, "images").unwrap(),
        [dataset.len().to_string()]
    );

    // The real sample that ships with the crate, and a copy of it (a folder of the user's).
    let real = load::scan(load::real_sample()).unwrap();
    assert_eq!(real.origin, Origin::RealSample);
    assert_eq!(real.len(), 16);
    assert_eq!(
        frame::strings(&real.overview().unwrap(), "per class").unwrap(),
        ["NORMAL 8, PNEUMONIA 8"]
    );
    let copy = tmp.path().join("mine");
    for class in ["NORMAL", "PNEUMONIA"] {
        fs::create_dir_all(copy.join(class)).unwrap();
        for entry in fs::read_dir(load::real_sample().join(class)).unwrap() {
            let path = entry.unwrap().path();
            fs::copy(&path, copy.join(class).join(path.file_name().unwrap())).unwrap();
        }
    }
    assert_eq!(load::scan(&copy).unwrap().origin, Origin::Folder);
}
