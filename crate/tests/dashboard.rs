//! Proportion figures, dashboards and the HTML page (opened in headless Chromium).

use std::path::Path;
use std::process::Command;

use xray_lab::prelude::*;

fn drawn_fraction(rgb: &[u8]) -> f64 {
    rgb.chunks_exact(3)
        .filter(|p| p.iter().any(|&c| c < 240))
        .count() as f64
        / (rgb.len() / 3) as f64
}

fn has_color(rgb: &[u8], c: plotters::style::RGBColor) -> bool {
    rgb.chunks_exact(3)
        .filter(|p| *p == [c.0, c.1, c.2])
        .count()
        > 50
}

fn resplit_images(scale: f64) -> (tempfile::TempDir, DataFrame) {
    let tmp = tempfile::tempdir().unwrap();
    SynthOptions::new().scale(scale).write(tmp.path()).unwrap();
    let dataset = load::scan(tmp.path()).unwrap();
    let images = split::split_with(
        &dataset,
        None,
        &ResplitOptions::new().cache_in(tmp.path().join("cache")),
    )
    .unwrap();
    (tmp, images)
}

#[test]
fn proportion_figures_draw_each_class_and_subset_and_say_when_there_is_nothing() {
    let (_tmp, images) = resplit_images(0.03);
    let stacked = plot::classes_stacked(&images).unwrap();
    let pie = plot::subset_shares(&images).unwrap();
    let population = plot::population_graph(&images).unwrap();
    for figure in [&stacked, &population] {
        let rgb = figure.to_rgb().unwrap();
        let f = drawn_fraction(&rgb);
        assert!(
            f > 0.05 && f < 0.9,
            "{}: drawn fraction {f}",
            figure.title()
        );
        for class in ["NORMAL", "PNEUMONIA"] {
            assert!(
                has_color(&rgb, plot::class_color(class)),
                "{}: no {class} colour",
                figure.title()
            );
        }
        let svg = figure.to_svg().unwrap();
        assert!(svg.contains('%'), "{}: no percentages", figure.title());
    }
    let rgb = pie.to_rgb().unwrap();
    for subset in ["train", "validation", "test"] {
        assert!(
            has_color(&rgb, plot::subset_color(subset)),
            "pie: no {subset} slice"
        );
    }
    let svg = pie.to_svg().unwrap();
    for subset in ["train", "validation", "test"] {
        assert!(svg.contains(subset), "pie: no {subset} label");
    }
    let out = tempfile::tempdir().unwrap();
    for (k, figure) in [stacked, pie, population].iter().enumerate() {
        for file in figure.save(out.path().join(format!("f{k}"))).unwrap() {
            assert!(std::fs::metadata(&file).unwrap().len() > 1000);
        }
    }
    // An empty table draws an honest empty chart; a table without subsets is an error.
    let empty = images.head(Some(0));
    for figure in [
        plot::classes_stacked(&empty).unwrap(),
        plot::subset_shares(&empty).unwrap(),
        plot::population_graph(&empty).unwrap(),
    ] {
        assert!(
            figure.to_svg().unwrap().contains("no data"),
            "{}",
            figure.title()
        );
    }
    let no_subsets = images.select(["path", "class"]).unwrap();
    assert!(plot::subset_shares(&no_subsets).is_err());
}

#[test]
fn dashboards_compose_panels_and_embed_pictures() {
    let (_tmp, images) = resplit_images(0.03);
    let simple = plot::dashboard(
        "Simple",
        vec![
            plot::images_per_subset(&images).unwrap(),
            plot::subset_shares(&images).unwrap(),
            plot::classes_stacked(&images).unwrap(),
            plot::color_legend(),
        ],
        2,
    )
    .unwrap();
    assert_eq!(simple.size(), (1600, 1060));
    let rgb = simple.to_rgb().unwrap();
    // Every quadrant holds a drawing.
    let (w, h) = (1600usize, 1060usize);
    for (qx, qy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
        let mut quadrant = Vec::new();
        for y in 60 + qy * 500..60 + (qy + 1) * 500 {
            let start = (y * w + qx * 800) * 3;
            quadrant.extend_from_slice(&rgb[start..start + 800 * 3]);
        }
        assert!(
            drawn_fraction(&quadrant) > 0.02,
            "quadrant {qx},{qy} is blank"
        );
    }
    assert!(h * w * 3 == rgb.len());
    // A dashboard with a picture in it is one PNG inside its SVG, not a rectangle per pixel.
    let grid = plot::sample_grid(&images, 2, &DecodeOptions::new()).unwrap();
    let with_picture = plot::dashboard("Pictures", vec![grid, plot::color_legend()], 2).unwrap();
    let svg = with_picture.to_svg().unwrap();
    assert!(svg.contains("data:image/png;base64,") && svg.len() < 3_000_000);
    assert!(plot::dashboard("Nothing", vec![], 2).is_err());
}

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

#[test]
fn the_html_page_opens_in_headless_chromium_without_errors_and_is_not_blank() {
    let (_tmp, images) = resplit_images(0.03);
    let counts = split::summary(&images).unwrap();
    let page = plot::html_page(
        "xray-lab dashboard <test>",
        "Counts & figures from a small synthetic dataset.",
        &[
            plot::classes_stacked(&images).unwrap(),
            plot::population_graph(&images).unwrap(),
            plot::sample_grid(&images, 1, &DecodeOptions::new()).unwrap(),
        ],
        &[("Images per subset and class", &counts)],
    )
    .unwrap();
    assert!(page.contains("&lt;test&gt;") && page.contains("Counts &amp; figures"));
    assert!(page.contains("<table>") && page.contains("<svg") && page.contains("validation"));
    assert!(
        !page.contains("http://") || !page.contains("src=\"http"),
        "the page must not fetch anything"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dashboard.html");
    plot::save_page(&page, &file).unwrap();

    if std::env::var_os("XRAY_LAB_SKIP_BROWSER").is_some_and(|v| v == "1") {
        eprintln!("XRAY_LAB_SKIP_BROWSER=1: the page was NOT opened in a browser");
        return;
    }
    let browser = chromium().expect(
        "Chromium is needed to test the HTML page: scripts/test installs it (apt: chromium), or set XRAY_LAB_SKIP_BROWSER=1",
    );
    let shot = dir.path().join("shot.png");
    let profile = dir.path().join("profile");
    let run = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1400,1800",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", file.display()))
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "chromium failed: {log}");
    // Console messages from the page (errors, failed loads) show as CONSOLE lines in the log.
    let console: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught") || l.contains("Failed to load"))
        .collect();
    assert!(console.is_empty(), "console errors: {console:#?}");
    let png = image::open(&shot).unwrap().to_rgb8();
    assert_eq!(png.width(), 1400);
    let f = drawn_fraction(png.as_raw());
    assert!(f > 0.03, "the screenshot is blank ({f} drawn)");
    let coloured = png.pixels().filter(|p| {
        let (lo, hi) = (*p.0.iter().min().unwrap(), *p.0.iter().max().unwrap());
        hi - lo > 60
    });
    assert!(
        coloured.count() > 1000,
        "the screenshot shows no coloured figure"
    );
    let _ = Path::new(&shot);
}
