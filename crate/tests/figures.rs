//! Figures: each one writes a non-empty SVG and a PNG with something drawn besides the background.

mod common;

use xray_lab::prelude::*;

fn drawn_fraction(rgb: &[u8]) -> f64 {
    let px = rgb.len() / 3;
    let non_white = rgb
        .chunks_exact(3)
        .filter(|p| p.iter().any(|&c| c < 240))
        .count();
    non_white as f64 / px as f64
}

#[test]
fn images_per_subset_draws_bars_and_text_and_saves_both_formats() {
    let tmp = tempfile::tempdir().unwrap();
    SynthOptions::new()
        .scale(0.01)
        .write(tmp.path().join("data"))
        .unwrap();
    let dataset = load::scan(tmp.path().join("data")).unwrap();
    let figure = plot::images_per_subset(&dataset.images).unwrap();

    let svg = figure.to_svg().unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("<rect"));
    for text in ["Images per subset", "train", "test", "val", "53"] {
        assert!(svg.contains(text), "SVG lacks {text:?}");
    }

    let rgb = figure.to_rgb().unwrap();
    let f = drawn_fraction(&rgb);
    assert!(f > 0.05 && f < 0.9, "drawn fraction {f}");
    // The train bar's colour is in the bitmap: bars were filled, not only axes drawn.
    let train = plot::subset_color("train");
    assert!(rgb
        .chunks_exact(3)
        .any(|p| p == [train.0, train.1, train.2]));
    // Text was rasterised with the bundled font: the caption's band holds dark pixels.
    let (w, _) = figure.size();
    let caption_band = &rgb[(w as usize * 3) * 15..(w as usize * 3) * 40];
    assert!(
        caption_band
            .chunks_exact(3)
            .any(|p| p.iter().all(|&c| c < 100)),
        "no caption text in the PNG"
    );

    let files = figure
        .save(tmp.path().join("out/images_per_subset"))
        .unwrap();
    for file in &files {
        assert!(
            std::fs::metadata(file).unwrap().len() > 1000,
            "{}",
            file.display()
        );
    }
    let png = xray_lab::image::open(&files[1]).unwrap();
    assert_eq!((png.width(), png.height()), figure.size());
}

#[test]
fn subset_column_wins_over_split_and_missing_columns_are_an_error() {
    let df =
        df!("split" => ["train", "train", "test"], "subset" => ["train", "validation", "test"])
            .unwrap();
    let svg = plot::images_per_subset(&df).unwrap().to_svg().unwrap();
    assert!(svg.contains("validation"));
    let err = plot::images_per_subset(&df!("x" => [1]).unwrap()).unwrap_err();
    assert!(
        matches!(&err, Error::MissingColumn { column, columns, .. }
            if column.contains("split") && columns == &["x"]),
        "{err}"
    );
}

#[test]
fn an_empty_table_gives_an_honest_empty_chart() {
    let df = df!("split" => Vec::<String>::new()).unwrap();
    let svg = plot::images_per_subset(&df).unwrap().to_svg().unwrap();
    assert!(svg.contains("no data"));
}

#[test]
fn classes_per_subset_and_compared_subsets_draw_a_bar_per_class_and_per_table() {
    let tmp = tempfile::tempdir().unwrap();
    SynthOptions::new()
        .scale(0.02)
        .write(tmp.path().join("data"))
        .unwrap();
    let dataset = load::scan(tmp.path().join("data")).unwrap();
    let images = split::resplit(
        &dataset.images,
        &ResplitOptions::new().cache_in(tmp.path().join("cache")),
    )
    .unwrap();

    let figure = plot::classes_per_subset(&images).unwrap();
    let svg = figure.to_svg().unwrap();
    for text in ["Classes per subset", "NORMAL", "PNEUMONIA", "validation"] {
        assert!(svg.contains(text), "SVG lacks {text:?}");
    }
    let rgb = figure.to_rgb().unwrap();
    for class in ["NORMAL", "PNEUMONIA"] {
        let c = plot::class_color(class);
        let pixels = rgb
            .chunks_exact(3)
            .filter(|p| *p == [c.0, c.1, c.2])
            .count();
        assert!(pixels > 500, "{class}: {pixels} pixels in its colour");
    }

    let report = split::report_method(&dataset.images, 42).unwrap();
    let figure = plot::compare_subsets(&[
        ("folders", &dataset.images),
        ("report", &report.memberships),
        ("ours", &images),
    ])
    .unwrap();
    let svg = figure.to_svg().unwrap();
    for text in ["folders", "report", "ours", "validation", "val"] {
        assert!(svg.contains(text), "SVG lacks {text:?}");
    }
    let f = drawn_fraction(&figure.to_rgb().unwrap());
    assert!(f > 0.05 && f < 0.9, "drawn fraction {f}");

    // An empty table: an honest empty chart, no panic.
    let empty = df!("subset" => Vec::<String>::new(), "class" => Vec::<String>::new()).unwrap();
    let svg = plot::classes_per_subset(&empty).unwrap().to_svg().unwrap();
    assert!(svg.contains("no data"));
    // The proportion charts too: the population graph indexes the first class, which an empty
    // table does not have.
    for figure in [
        plot::population_graph(&empty),
        plot::classes_stacked(&empty),
        plot::subset_shares(&empty),
    ] {
        let svg = figure.unwrap().to_svg().unwrap();
        assert!(svg.contains("no data"), "{svg}");
    }
    // One class cannot go one to each side.
    let one = df!("subset" => ["train", "test"], "class" => ["NORMAL", "NORMAL"]).unwrap();
    assert!(matches!(
        plot::population_graph(&one),
        Err(Error::OneClass { .. })
    ));
}

/// Pixels in a class's colour, exact or blended (translucent areas), within a tolerance.
fn near_color_pixels(rgb: &[u8], c: plotters::style::RGBColor) -> usize {
    rgb.chunks_exact(3)
        .filter(|p| {
            (p[0] as i32 - c.0 as i32).abs() < 40
                && (p[1] as i32 - c.1 as i32).abs() < 40
                && (p[2] as i32 - c.2 as i32).abs() < 40
        })
        .count()
}

#[test]
fn size_and_intensity_figures_draw_each_class_and_handle_empty_tables() {
    let tmp = tempfile::tempdir().unwrap();
    SynthOptions::new()
        .scale(0.02)
        .write(tmp.path().join("data"))
        .unwrap();
    let dataset = load::scan(tmp.path().join("data")).unwrap();
    let images = split::resplit(
        &dataset.images,
        &ResplitOptions::new().cache_in(tmp.path().join("cache")),
    )
    .unwrap();
    let facts = facts::facts_in(
        &images,
        &xray_lab::cache::Caches::in_folder(tmp.path().join("cache")),
    )
    .unwrap();

    let sizes = plot::image_sizes(&facts).unwrap();
    let width_hist = plot::size_histogram(&facts, "width", 20).unwrap();
    let stats = facts::size_stats(&facts, "subset").unwrap();
    let size_stats = plot::size_stats_per_subset(&stats, "width").unwrap();
    let features = decode::features(
        &images,
        &DecodeOptions::new()
            .size(32)
            .cache(false)
            .progress(Progress::Quiet),
    )
    .unwrap();
    let intensities =
        plot::intensity_histograms(&features.intensity_histograms().unwrap()).unwrap();
    let intensity_stats =
        plot::intensity_stats_per_subset(&features.intensity_stats("subset").unwrap()).unwrap();

    for (figure, texts) in [
        (
            &sizes,
            vec![
                "Image sizes by class",
                "NORMAL",
                "PNEUMONIA",
                "width (pixels)",
            ],
        ),
        (
            &width_hist,
            vec!["Image width by class", "NORMAL", "PNEUMONIA"],
        ),
        (
            &size_stats,
            vec!["min", "max", "mean", "std", "train", "validation"],
        ),
        (
            &intensities,
            vec!["Pixel intensities by class", "NORMAL", "PNEUMONIA"],
        ),
        (&intensity_stats, vec!["mean", "std", "test", "validation"]),
    ] {
        let svg = figure.to_svg().unwrap();
        for text in texts {
            assert!(svg.contains(text), "{}: SVG lacks {text:?}", figure.title());
        }
        let rgb = figure.to_rgb().unwrap();
        let f = drawn_fraction(&rgb);
        assert!(
            f > 0.02 && f < 0.9,
            "{}: drawn fraction {f}",
            figure.title()
        );
        let saved = figure
            .save(tmp.path().join("figures").join(figure.title()))
            .unwrap();
        assert!(saved
            .iter()
            .all(|p| std::fs::metadata(p).unwrap().len() > 1000));
    }
    // Each class is drawn in its own colour in the class figures.
    for figure in [&sizes, &width_hist, &intensities] {
        let rgb = figure.to_rgb().unwrap();
        for class in ["NORMAL", "PNEUMONIA"] {
            let n = near_color_pixels(&rgb, plot::class_color(class));
            assert!(
                n > 50,
                "{}: {class} has {n} pixels in its colour",
                figure.title()
            );
        }
    }

    // Empty inputs: an honest empty chart or a clear error, never a panic.
    let empty = facts.head(Some(0));
    assert!(plot::image_sizes(&empty)
        .unwrap()
        .to_svg()
        .unwrap()
        .contains("no data"));
    assert!(plot::size_histogram(&empty, "width", 10)
        .unwrap()
        .to_svg()
        .unwrap()
        .contains("no data"));
    let err = plot::size_stats_per_subset(&facts, "width").unwrap_err();
    assert!(
        err.to_string().contains("width_min") || err.to_string().contains("subset"),
        "{err}"
    );
    let err = plot::size_histogram(&facts, "no_such_column", 10).unwrap_err();
    assert!(
        matches!(&err, Error::MissingColumn { column, .. } if column == "no_such_column"),
        "{err}"
    );
}

#[test]
fn the_sample_grid_shows_each_class_beside_its_grayscale_version_and_survives_bad_files() {
    let tmp = tempfile::tempdir().unwrap();
    let real = common::real_sample();
    let images = load::scan(&real).unwrap().images;
    let figure = plot::sample_grid(&images, 3, &DecodeOptions::new().cache(false)).unwrap();
    let (w, h) = figure.size();
    assert!(w > 900 && h > 400, "{w}x{h}");
    let rgb = figure.to_rgb().unwrap();
    let f = drawn_fraction(&rgb);
    assert!(f > 0.3 && f < 0.95, "drawn fraction {f}");
    let svg = figure.to_svg().unwrap();
    assert!(svg.contains("data:image/png;base64,") && svg.len() > 50_000);
    if let Ok(dir) = std::env::var("XRAY_LAB_FIGURES") {
        figure
            .save(std::path::Path::new(&dir).join("sample_grid"))
            .unwrap();
    }

    // A file that cannot be decoded shows its reason in its cell; the grid is still made.
    let data = tmp.path().join("data/train/NORMAL");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("broken.jpeg"), b"not a jpeg").unwrap();
    let broken = load::scan(tmp.path().join("data")).unwrap().images;
    let figure = plot::sample_grid(&broken, 2, &DecodeOptions::new().cache(false)).unwrap();
    assert!(drawn_fraction(&figure.to_rgb().unwrap()) > 0.001);
    // An empty table is a clear error.
    let err = plot::sample_grid(&broken.head(Some(0)), 2, &DecodeOptions::new()).unwrap_err();
    assert!(matches!(err, Error::Empty { item: "image", .. }), "{err}");
}
