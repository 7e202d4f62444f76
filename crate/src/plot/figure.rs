use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::bars::BarChart;
use super::grid::Raster;
use super::xy::{CurveChart, ScatterChart};
use crate::error::{Error, Result};

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

/// What a figure draws. Kept as data, so one figure renders to SVG, PNG or a dashboard panel.
#[derive(Debug, Clone)]
pub(crate) enum Chart {
    Bars(BarChart),
    Scatter(ScatterChart),
    Curves(CurveChart),
    Raster(Raster),
    Lines(super::model::LineChart),
    Share(super::share::ShareChart),
    Panels(super::dashboard::Panels),
    Legend(super::dashboard::Legend),
}

/// A figure: a title, a size in pixels and what to draw.
///
/// It renders on demand: [`Figure::to_svg`], [`Figure::to_png`], [`Figure::save`]; and in evcxr
/// a figure that ends a cell shows inline (it implements evcxr's `evcxr_display` convention).
#[derive(Debug, Clone)]
pub struct Figure {
    title: String,
    width: u32,
    height: u32,
    chart: Chart,
}

impl Figure {
    pub(crate) fn new(title: impl Into<String>, chart: Chart) -> Self {
        Figure {
            title: title.into(),
            width: 800,
            height: 500,
            chart,
        }
    }

    /// The figure's title.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// Width and height in pixels.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The same figure at another size in pixels.
    pub fn with_size(mut self, width: u32, height: u32) -> Self {
        self.width = width.max(50);
        self.height = height.max(50);
        self
    }

    /// The same figure with another title.
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// Draw onto any plotters drawing area (an SVG, a bitmap, or a panel of a dashboard).
    pub fn draw_on<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        register_fonts();
        let fail = |e: String| Error::Plot {
            figure: self.title.clone(),
            reason: e,
        };
        area.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
        match &self.chart {
            Chart::Bars(bars) => bars.draw(area, &self.title).map_err(fail),
            Chart::Scatter(points) => points.draw(area, &self.title).map_err(fail),
            Chart::Curves(curves) => curves.draw(area, &self.title).map_err(fail),
            Chart::Raster(raster) => raster.draw(area).map_err(fail),
            Chart::Lines(lines) => lines.draw(area, &self.title).map_err(fail),
            Chart::Share(share) => share.draw(area, &self.title).map_err(fail),
            Chart::Panels(panels) => panels.draw(area, &self.title).map_err(fail),
            Chart::Legend(legend) => legend.draw(area, &self.title).map_err(fail),
        }
    }

    fn has_raster(&self) -> bool {
        match &self.chart {
            Chart::Raster(_) => true,
            Chart::Panels(panels) => panels.figures.iter().any(Figure::has_raster),
            _ => false,
        }
    }

    /// The figure as an SVG document.
    pub fn to_svg(&self) -> Result<String> {
        if self.has_raster() {
            // A picture made of photographs (or a dashboard holding one): embedded as one PNG,
            // not drawn pixel by pixel.
            use base64::Engine;
            let png = base64::engine::general_purpose::STANDARD.encode(self.to_png()?);
            let (w, h) = (self.width, self.height);
            return Ok(format!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
                 viewBox=\"0 0 {w} {h}\"><title>{}</title><image width=\"{w}\" height=\"{h}\" \
                 href=\"data:image/png;base64,{png}\"/></svg>",
                self.title.replace('&', "&amp;").replace('<', "&lt;")
            ));
        }
        let mut svg = String::new();
        {
            let area =
                SVGBackend::with_string(&mut svg, (self.width, self.height)).into_drawing_area();
            self.draw_on(&area)?;
            area.present().map_err(|e| Error::Plot {
                figure: self.title.clone(),
                reason: e.to_string(),
            })?;
        }
        Ok(svg)
    }

    /// The figure as RGB pixels, row-major, `width * height * 3` bytes.
    pub fn to_rgb(&self) -> Result<Vec<u8>> {
        let mut rgb = vec![0u8; (self.width * self.height * 3) as usize];
        {
            let area =
                BitMapBackend::with_buffer(&mut rgb, (self.width, self.height)).into_drawing_area();
            self.draw_on(&area)?;
            area.present().map_err(|e| Error::Plot {
                figure: self.title.clone(),
                reason: e.to_string(),
            })?;
        }
        Ok(rgb)
    }

    /// The figure as a PNG file's bytes.
    pub fn to_png(&self) -> Result<Vec<u8>> {
        let rgb = self.to_rgb()?;
        let mut png = Vec::new();
        image::ImageEncoder::write_image(
            image::codecs::png::PngEncoder::new(&mut png),
            &rgb,
            self.width,
            self.height,
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| Error::Plot {
            figure: self.title.clone(),
            reason: format!("PNG encoding failed: {e}"),
        })?;
        Ok(png)
    }

    /// Write the figure as an SVG file.
    pub fn save_svg(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_svg()?).map_err(|e| Error::io(path, e))
    }

    /// Write the figure as a PNG file.
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_png()?).map_err(|e| Error::io(path, e))
    }

    /// Write `<stem>.svg` and `<stem>.png` (creating the folder) and return both paths.
    pub fn save(&self, stem: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
        let stem = stem.as_ref();
        if let Some(dir) = stem.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let (svg, png) = (stem.with_extension("svg"), stem.with_extension("png"));
        self.save_svg(&svg)?;
        self.save_png(&png)?;
        Ok(vec![svg, png])
    }

    /// Saves the figure as `<name>.svg` and `<name>.png` in the output folder
    /// ([`output_dir`](crate::env::output_dir): `$XRAY_LAB_OUT`, else `./figures`) and returns
    /// it, so one line both keeps and shows it at the end of a notebook cell:
    /// `plot::images_per_subset(&images)?.saved_as("01_images_per_subset")?`.
    pub fn saved_as(self, name: &str) -> Result<Figure> {
        self.save(crate::env::output_dir().join(name))?;
        Ok(self)
    }

    /// evcxr's display hook: a figure that ends a notebook cell shows as inline SVG.
    pub fn evcxr_display(&self) {
        match self.to_svg() {
            Ok(svg) => {
                println!("EVCXR_BEGIN_CONTENT text/html\n<div>{svg}</div>\nEVCXR_END_CONTENT")
            }
            Err(e) => println!("could not draw the figure: {e}"),
        }
    }
}
