//! The acquisition facts read from JPEG headers: crafted files (progressive, EXIF, ICC, JFIF
//! density, 4:2:0 against 4:4:4, two qualities) and the real X-rays' pattern.

mod common;

use jpeg_encoder::{ColorType, Encoder, PixelDensity, SamplingFactor};
use xray_lab::facts::{facts_of_bytes, ImageFacts, JpegMarkers};

/// A 64x48 test picture encoded with `set_up` applied to the encoder.
fn jpeg(color: ColorType, quality: u8, set_up: impl FnOnce(&mut Encoder<&mut Vec<u8>>)) -> Vec<u8> {
    let (w, h) = (64u16, 48u16);
    let channels = if color == ColorType::Rgb { 3 } else { 1 };
    let pixels: Vec<u8> = (0..w as usize * h as usize * channels)
        .map(|i| ((i * 7) % 251) as u8)
        .collect();
    let mut out = Vec::new();
    let mut encoder = Encoder::new(&mut out, quality);
    set_up(&mut encoder);
    encoder.encode(&pixels, w, h, color).unwrap();
    out
}

fn facts(bytes: &[u8]) -> (ImageFacts, JpegMarkers) {
    let facts = facts_of_bytes(bytes).unwrap();
    let markers = facts.jpeg.clone().expect("a JPEG has markers");
    (facts, markers)
}

#[test]
fn a_plain_file_has_no_exif_no_icc_and_jfif_without_unit() {
    let (facts, m) = facts(&jpeg(ColorType::Luma, 85, |_| {}));
    assert_eq!(
        (facts.width, facts.height, facts.progressive),
        (64, 48, Some(false))
    );
    assert!(!m.exif && !m.icc);
    let density = m.jfif.unwrap();
    assert_eq!((density.units, density.x, density.y), (0, 1, 1));
    assert_eq!(density.dpi(), None);
    assert_eq!(m.chroma.as_deref(), Some("gray"));
}

#[test]
fn progressive_exif_icc_and_density_are_read() {
    let (facts, m) = facts(&jpeg(ColorType::Luma, 85, |e| {
        e.set_progressive(true);
        e.add_exif_metadata(b"MM\0*\0\0\0\x08\0\0").unwrap();
        e.add_icc_profile(&[7u8; 600]).unwrap();
        e.set_density(PixelDensity::dpi(72));
    }));
    assert_eq!(facts.progressive, Some(true));
    assert!(m.exif && m.icc);
    assert_eq!(m.jfif.unwrap().dpi(), Some(72.0));
    assert_eq!(m.jfif.unwrap().unit_name(), "dpi");
}

#[test]
fn chroma_subsampling_is_named() {
    let sampled = |factor| {
        facts(&jpeg(ColorType::Rgb, 85, |e| e.set_sampling_factor(factor)))
            .1
            .chroma
            .unwrap()
    };
    assert_eq!(sampled(SamplingFactor::F_1_1), "4:4:4");
    assert_eq!(sampled(SamplingFactor::F_2_2), "4:2:0");
    assert_eq!(sampled(SamplingFactor::F_2_1), "4:2:2");
}

#[test]
fn the_quality_is_recovered_from_the_tables() {
    for quality in [50u8, 75, 90, 95] {
        let (_, m) = facts(&jpeg(ColorType::Luma, quality, |_| {}));
        let estimate = m.quality.unwrap();
        assert!(
            (estimate - quality as f64).abs() <= 1.0,
            "quality {quality} estimated as {estimate}"
        );
    }
    let low = facts(&jpeg(ColorType::Luma, 60, |_| {})).1.quality.unwrap();
    let high = facts(&jpeg(ColorType::Luma, 92, |_| {})).1.quality.unwrap();
    assert!(low < high);
}

#[test]
fn a_png_has_no_jpeg_markers() {
    let mut png = Vec::new();
    image::GrayImage::new(8, 8)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let facts = facts_of_bytes(&png).unwrap();
    assert_eq!((facts.format.as_str(), facts.jpeg), ("png", None));
}

#[test]
fn the_real_x_rays_show_the_acquisition_pattern() {
    // Measured on the Kaggle release (shared MEASUREMENTS.md): NORMAL files carry EXIF and an
    // ICC profile, PNEUMONIA files neither; the 16 real files of the sample follow it, and the
    // PNEUMONIA files were saved at quality 75.
    for class in ["NORMAL", "PNEUMONIA"] {
        for entry in std::fs::read_dir(common::real_sample().join(class)).unwrap() {
            let path = entry.unwrap().path();
            let (_, m) = facts(&std::fs::read(&path).unwrap());
            let normal = class == "NORMAL";
            assert_eq!((m.exif, m.icc), (normal, normal), "{}", path.display());
            assert_eq!(m.chroma.as_deref(), Some("gray"));
            let quality = m.quality.unwrap();
            if normal {
                assert!(quality > 85.0, "{}: {quality}", path.display());
            } else {
                assert_eq!(quality, 75.0, "{}", path.display());
            }
        }
    }
}

#[test]
fn the_facts_table_has_the_acquisition_columns() {
    let dataset = xray_lab::load::scan(common::real_sample()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let table = xray_lab::facts::facts_in(
        &dataset.images,
        &xray_lab::cache::Caches::in_folder(tmp.path()),
    )
    .unwrap();
    for column in [
        "exif",
        "icc",
        "jfif_units",
        "jfif_density",
        "chroma",
        "quality",
    ] {
        assert!(table.column(column).is_ok(), "no column {column}");
    }
    let icc = table.column("icc").unwrap().bool().unwrap().sum().unwrap();
    assert_eq!(icc, 8);
}
