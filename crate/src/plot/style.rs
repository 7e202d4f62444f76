//! The look every figure shares: the bundled font, the colours of classes and subsets, the
//! legend, category labels.

use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::RGBColor;

/// The font every figure uses, bundled so text renders without system fonts.
/// DejaVu Sans, under the Bitstream Vera / DejaVu licence (assets/DejaVuSans-LICENSE.txt).
static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// The family name figures ask for; registered with plotters' ab_glyph font loader.
pub(crate) const FONT: &str = "sans-serif";

pub(crate) fn register_fonts() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        for style in [
            FontStyle::Normal,
            FontStyle::Bold,
            FontStyle::Italic,
            FontStyle::Oblique,
        ] {
            // The bytes are ours and known to be a valid font; a failure would show in every test.
            let _ = plotters::style::register_font(FONT, style, DEJAVU_SANS);
        }
    });
}

/// The series legend every chart uses: the bundled font, a light box, at `position`.
pub(crate) fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<
        'a,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    position: SeriesLabelPosition,
) -> std::result::Result<(), String> {
    chart
        .configure_series_labels()
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .position(position)
        .draw()
        .map_err(|e| e.to_string())
}

/// The tick label of a category axis: the name at whole positions, nothing between them.
pub(crate) fn category_label(names: &[String], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
        names[i as usize].clone()
    } else {
        String::new()
    }
}

/// The colour of a class in every figure: NORMAL teal, PNEUMONIA coral, others from a fixed list.
pub fn class_color(class: &str) -> RGBColor {
    match class {
        "NORMAL" => RGBColor(0x2a, 0x9d, 0x8f),
        "PNEUMONIA" => RGBColor(0xe7, 0x6f, 0x51),
        other => fallback_color(other),
    }
}

/// The colour of a subset in every figure: train slate, test gold, val green, validation purple.
pub fn subset_color(subset: &str) -> RGBColor {
    match subset {
        "train" => RGBColor(0x26, 0x46, 0x53),
        "test" => RGBColor(0xe9, 0xc4, 0x6a),
        "val" => RGBColor(0x8a, 0xb1, 0x7d),
        "validation" => RGBColor(0x6d, 0x59, 0x7a),
        other => fallback_color(other),
    }
}

/// A stable colour for any other name (the same name always gets the same colour).
fn fallback_color(name: &str) -> RGBColor {
    const PALETTE: [RGBColor; 6] = [
        RGBColor(0x45, 0x7b, 0x9d),
        RGBColor(0xb5, 0x65, 0x76),
        RGBColor(0x7f, 0x8c, 0x3a),
        RGBColor(0x9c, 0x6b, 0x30),
        RGBColor(0x5c, 0x5c, 0x8a),
        RGBColor(0x88, 0x88, 0x88),
    ];
    let hash = name
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
    PALETTE[hash as usize % PALETTE.len()]
}
