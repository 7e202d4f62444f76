use std::path::{Path, PathBuf};
use std::sync::Arc;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::register_fonts;
use crate::error::{Error, Result};

/// What a figure draws, kept as data, so one figure renders to SVG, PNG or a dashboard panel.
/// Each chart type (bars, curves, pictures, panels ...) implements it in its own module with
/// [`impl_chart!`]; this module names none of them. (Public only in name: the module is private,
/// so users draw through [`Figure`], and [`Backend`] stays sealed.)
pub trait Chart: std::fmt::Debug + Send + Sync {
    /// Draws on an SVG document (or a panel of one).
    fn draw_svg(&self, area: &DrawingArea<SVGBackend<'_>, Shift>, title: &str) -> Drawn;
    /// Draws on RGB pixels (or a panel of them).
    fn draw_rgb(&self, area: &DrawingArea<BitMapBackend<'_>, Shift>, title: &str) -> Drawn;
    /// Whether it holds photographs: an SVG then embeds the figure as one PNG.
    fn has_raster(&self) -> bool {
        false
    }
}

/// What drawing returns: plotters' reason as text when it fails.
pub type Drawn = std::result::Result<(), String>;

/// Implements [`Chart`] for a type with a `draw<DB: DrawingBackend>(&self, area, title)` method
/// (`impl_chart!(BarChart)`); `impl_chart!(Raster, raster)` for one that holds photographs.
macro_rules! impl_chart {
    ($chart:ty) => {
        $crate::plot::figure::impl_chart!($chart, false);
    };
    ($chart:ty, raster) => {
        $crate::plot::figure::impl_chart!($chart, true);
    };
    ($chart:ty, $raster:expr) => {
        impl $crate::plot::figure::Chart for $chart {
            fn draw_svg(
                &self,
                area: &plotters::drawing::DrawingArea<
                    plotters::prelude::SVGBackend<'_>,
                    plotters::coord::Shift,
                >,
                title: &str,
            ) -> $crate::plot::figure::Drawn {
                self.draw(area, title)
            }
            fn draw_rgb(
                &self,
                area: &plotters::drawing::DrawingArea<
                    plotters::prelude::BitMapBackend<'_>,
                    plotters::coord::Shift,
                >,
                title: &str,
            ) -> $crate::plot::figure::Drawn {
                self.draw(area, title)
            }
            fn has_raster(&self) -> bool {
                $raster
            }
        }
    };
}
pub(crate) use impl_chart;

/// The backends a figure draws on: SVG documents and RGB pixels (sealed: a chart is drawn by
/// dispatching on the backend, which a trait object cannot do for any backend).
pub trait Backend: DrawingBackend + private::Sealed {
    #[doc(hidden)]
    fn draw_chart(chart: &dyn Chart, area: &DrawingArea<Self, Shift>, title: &str) -> Drawn
    where
        Self: Sized;
}

mod private {
    pub trait Sealed {}
    impl Sealed for plotters::prelude::SVGBackend<'_> {}
    impl Sealed for plotters::prelude::BitMapBackend<'_> {}
}

impl Backend for SVGBackend<'_> {
    fn draw_chart(chart: &dyn Chart, area: &DrawingArea<Self, Shift>, title: &str) -> Drawn {
        chart.draw_svg(area, title)
    }
}

impl Backend for BitMapBackend<'_> {
    fn draw_chart(chart: &dyn Chart, area: &DrawingArea<Self, Shift>, title: &str) -> Drawn {
        chart.draw_rgb(area, title)
    }
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
    chart: Arc<dyn Chart>,
}

impl Figure {
    pub(crate) fn new(title: impl Into<String>, chart: impl Chart + 'static) -> Self {
        Figure {
            title: title.into(),
            width: 800,
            height: 500,
            chart: Arc::new(chart),
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

    /// Draw onto a plotters drawing area: an SVG document or RGB pixels, or a panel of one.
    pub fn draw_on<DB: Backend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        register_fonts();
        let fail = |e: String| Error::Plot {
            figure: self.title.clone(),
            reason: e,
        };
        area.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
        DB::draw_chart(self.chart.as_ref(), area, &self.title).map_err(fail)
    }

    /// Whether it holds photographs (a picture, or a dashboard with one).
    pub(crate) fn has_raster(&self) -> bool {
        self.chart.has_raster()
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
