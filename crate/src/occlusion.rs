//! Occlusion: where on the image a model's score comes from.
//!
//! A grey patch (the image's own mean) slides over the decoded image; at each place the model
//! scores the covered image, and the drop of its score is written to every pixel the patch
//! covers (averaged over the patches that cover it). Bright where covering the image lowers the
//! PNEUMONIA score, dark where it raises it. Works for any model: a pixel model, a tree on
//! block means, a network's embeddings (`pretrained`), and a model on file facts, whose map is
//! zero everywhere because covering pixels cannot change a file's header.
//!
//! ```
//! use xray_lab::prelude::*;
//! use xray_lab::train::{Estimator, Input, linear::{LinearModel, RidgeRegression}};
//! // A linear model on 100x100 images that reads only the top-left 10x10 pixels.
//! let mut weights = vec![0.0; 100 * 100];
//! for y in 0..10 { for x in 0..10 { weights[y * 100 + x] = 1.0; } }
//! let model = Model {
//!     kind: ModelKind::LinearRegression,
//!     estimator: Estimator::Ridge(RidgeRegression {
//!         model: LinearModel { weights, intercept: 0.0 },
//!         alpha: 1.0,
//!     }),
//!     input: Input::Pixels,
//!     decode: DecodeOptions::new().size(100),
//!     threshold: 0.5,
//!     fit_seconds: 0.0,
//! };
//! let image: Vec<f32> = (0..100 * 100).map(|i| (i % 7) as f32 / 7.0).collect();
//! let map = model.occlusion_of(&image, 4, 2)?;
//! // Bright in the corner it reads (a patch over it reaches 3 pixels past it), dark elsewhere.
//! assert_eq!(map.regions().corners, 1.0);
//! assert_eq!(map.map[99 * 100 + 99], 0.0);
//! # Ok::<(), xray_lab::Error>(())
//! ```

use std::path::Path;

use polars::prelude::*;
use rayon::prelude::*;

use crate::columns;
use crate::decode::Features;
use crate::error::PolarsContext;
use crate::subset::Subset;
use crate::train::{Input, Model, Samples};
use crate::{frame, Error, Result};

/// The central lung region, as fractions of the image's width and height: `x` from 0.15 to
/// 0.85, `y` from 0.10 to 0.80 (49% of the area). On a chest film taken front to back both lung
/// fields lie inside it; the hospital's markers and text lie outside, mostly in the corners.
pub const LUNGS: [f64; 4] = [0.15, 0.10, 0.85, 0.80];
/// The four corners: squares of 15% of the side (9% of the area in all).
pub const CORNER: f64 = 0.15;

/// What a uniform map would put in each region: its share of the area (lungs, corners, the
/// rest of the border).
pub fn area_shares() -> Regions {
    let side = 300;
    Regions::of(&vec![1.0; side * side], side)
}

/// An occlusion map: the drop of the model's score when a patch covers each pixel.
#[derive(Debug, Clone, PartialEq)]
pub struct Occlusion {
    /// The side of the map (the model's decoded side).
    pub side: usize,
    /// The model's score of the whole image.
    pub score: f64,
    /// `side x side` values, row-major: the score minus the score with the pixel covered
    /// (averaged over the patches that cover it). Positive: the pixel pushed to PNEUMONIA.
    pub map: Vec<f32>,
    /// The patch's side, in pixels.
    pub patch: usize,
    /// The step between patches, in pixels.
    pub stride: usize,
    /// The decoded image the map was made on (`side x side`, values in [0, 1]), to draw it on.
    pub image: Vec<f32>,
}

/// Shares of a map's total absolute effect (or of the area) in each region; they sum to 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Regions {
    /// Inside the central lung region ([`LUNGS`]).
    pub lungs: f64,
    /// In the four corners ([`CORNER`]).
    pub corners: f64,
    /// On the rest of the border.
    pub border: f64,
}

impl Regions {
    /// The shares of `|values|` (`side x side`, row-major) in each region. All NaN for a map
    /// that is zero everywhere.
    pub fn of(values: &[f32], side: usize) -> Regions {
        let mut sums = [0.0f64; 3];
        for (i, v) in values.iter().enumerate() {
            let (x, y) = ((i % side) as f64 + 0.5, (i / side) as f64 + 0.5);
            let (fx, fy) = (x / side as f64, y / side as f64);
            let edge = |f: f64| !(CORNER..1.0 - CORNER).contains(&f);
            let region = if (LUNGS[0]..LUNGS[2]).contains(&fx) && (LUNGS[1]..LUNGS[3]).contains(&fy)
            {
                0
            } else if edge(fx) && edge(fy) {
                1
            } else {
                2
            };
            sums[region] += v.abs() as f64;
        }
        let total: f64 = sums.iter().sum();
        Regions {
            lungs: sums[0] / total,
            corners: sums[1] / total,
            border: sums[2] / total,
        }
    }
}

impl Occlusion {
    /// A map of zeros: what a model that reads no pixel gives.
    fn flat(image: Vec<f32>, side: usize, score: f64, patch: usize, stride: usize) -> Occlusion {
        Occlusion {
            side,
            score,
            map: vec![0.0; side * side],
            patch,
            stride,
            image,
        }
    }

    /// The shares of the map's effect in the lungs, the corners and the rest of the border.
    pub fn regions(&self) -> Regions {
        Regions::of(&self.map, self.side)
    }

    /// The largest absolute value of the map (0 for a flat map).
    pub fn peak(&self) -> f32 {
        self.map.iter().fold(0.0f32, |m, v| m.max(v.abs()))
    }
}

/// The patch positions along one side: every `stride` pixels, and the last one flush with the
/// edge so the whole image is covered.
fn positions(side: usize, patch: usize, stride: usize) -> Vec<usize> {
    let last = side - patch;
    let mut at: Vec<usize> = (0..=last).step_by(stride).collect();
    if at.last() != Some(&last) {
        at.push(last);
    }
    at
}

impl Model {
    /// The occlusion map of one image file, decoded with the model's own settings: `patch`
    /// pixels square, moved `stride` pixels at a time (on 150x150, patch 15 and stride 5 give
    /// 784 covered images). A model on file facts gets its score and a map of zeros.
    pub fn occlusion(
        &self,
        image: impl AsRef<Path>,
        patch: usize,
        stride: usize,
    ) -> Result<Occlusion> {
        let path = image.as_ref();
        let side = self.decode.side() as usize;
        check_patch(side, patch, stride)?;
        let decoded = crate::decode::decode_file(path, &self.decode).map(|gray| {
            gray.as_raw()
                .iter()
                .map(|&v| v as f32 / 255.0)
                .collect::<Vec<f32>>()
        });
        match (&self.input, decoded) {
            // A header model scores a file whose pixels may not decode; the image is only shown.
            (Input::Facts, decoded) => Ok(Occlusion::flat(
                decoded.unwrap_or_else(|_| vec![0.0; side * side]),
                side,
                self.predict_file(path)?,
                patch,
                stride,
            )),
            (_, decoded) => self.occlusion_of(&decoded?, patch, stride),
        }
    }

    /// The occlusion map of an image already decoded with the model's settings (a row of
    /// [`Features`], values in [0, 1]). A model on file facts needs the file
    /// ([`Model::occlusion`]): this is an error for it.
    pub fn occlusion_of(&self, pixels: &[f32], patch: usize, stride: usize) -> Result<Occlusion> {
        let side = self.decode.side() as usize;
        check_patch(side, patch, stride)?;
        if pixels.len() != side * side {
            return Err(Error::ShapeMismatch {
                what: format!("an occlusion map of model {}", self.kind),
                expected: format!("{side}x{side} images ({} values)", side * side),
                found: format!("{} values were given", pixels.len()),
            });
        }
        match self.input {
            Input::Facts => {
                return Err(Error::Incompatible {
                    what: format!("model {}", self.kind),
                    reason: "it reads the file's header, not its pixels: give Model::occlusion \
                             the file"
                        .into(),
                })
            }
            Input::Nothing => {
                let score = self.scores_of_pixels(&[pixels.to_vec()])?[0];
                return Ok(Occlusion::flat(pixels.to_vec(), side, score, patch, stride));
            }
            _ => {}
        }
        let fill = pixels.iter().sum::<f32>() / pixels.len() as f32;
        let at = positions(side, patch, stride);
        let places: Vec<(usize, usize)> = at
            .iter()
            .flat_map(|&y| at.iter().map(move |&x| (x, y)))
            .collect();
        let score = self.scores_of_pixels(&[pixels.to_vec()])?[0];
        // In chunks, so 784 covered copies of 22,500 pixels never sit in memory at once.
        let mut drops = Vec::with_capacity(places.len());
        for chunk in places.chunks(64) {
            let covered: Vec<Vec<f32>> = chunk
                .iter()
                .map(|&(x0, y0)| {
                    let mut copy = pixels.to_vec();
                    for y in y0..y0 + patch {
                        copy[y * side + x0..y * side + x0 + patch].fill(fill);
                    }
                    copy
                })
                .collect();
            drops.extend(
                self.scores_of_pixels(&covered)?
                    .into_iter()
                    .map(|s| score - s),
            );
        }
        let mut sum = vec![0.0f64; side * side];
        let mut count = vec![0u32; side * side];
        for (&(x0, y0), drop) in places.iter().zip(drops) {
            for y in y0..y0 + patch {
                for x in x0..x0 + patch {
                    sum[y * side + x] += drop;
                    count[y * side + x] += 1;
                }
            }
        }
        Ok(Occlusion {
            side,
            score,
            map: sum
                .iter()
                .zip(&count)
                .map(|(s, &c)| if c == 0 { 0.0 } else { (s / c as f64) as f32 })
                .collect(),
            patch,
            stride,
            image: pixels.to_vec(),
        })
    }

    /// The model's scores of decoded images (rows of `side x side` pixels in [0, 1]), each
    /// brought to the model's input (block means, components, a network's embedding).
    fn scores_of_pixels(&self, rows: &[Vec<f32>]) -> Result<Vec<f64>> {
        let side = self.decode.side() as usize;
        let inputs: Vec<Vec<f32>> = match &self.input {
            Input::Pixels | Input::Nothing => rows.to_vec(),
            Input::Pooled { factor } => rows
                .iter()
                .map(|r| crate::train::pool_row(r, side, *factor))
                .collect(),
            Input::Components { factor, pca } => rows
                .iter()
                .map(|r| pca.project(&crate::train::pool_row(r, side, *factor)))
                .collect(),
            Input::Embedding { network } => self.embed_pixels(rows, network)?,
            Input::Facts => {
                return Err(Error::Incompatible {
                    what: format!("model {}", self.kind),
                    reason: "it reads file facts, not pixels".into(),
                })
            }
        };
        let cols = inputs.first().map(|r| r.len()).unwrap_or(0);
        let x = Samples::new(inputs.concat(), cols, vec![0; rows.len()])?;
        self.scores(&x)
    }

    #[cfg(feature = "pretrained")]
    fn embed_pixels(&self, rows: &[Vec<f32>], _network: &str) -> Result<Vec<Vec<f32>>> {
        let side = self.decode.side();
        let network = crate::pretrained::Network::shared()?;
        rows.par_iter()
            .map(|r| {
                let bytes: Vec<u8> = r
                    .iter()
                    .map(|&v| (v * 255.0).round().clamp(0.0, 255.0) as u8)
                    .collect();
                let gray = image::GrayImage::from_raw(side, side, bytes).ok_or_else(|| {
                    Error::ShapeMismatch {
                        what: "an occluded image".into(),
                        expected: format!("{side}x{side} pixels"),
                        found: format!("it has {} values", r.len()),
                    }
                })?;
                Ok(network.run(&network.input_from_gray(&gray)).embedding)
            })
            .collect()
    }

    #[cfg(not(feature = "pretrained"))]
    fn embed_pixels(&self, _rows: &[Vec<f32>], network: &str) -> Result<Vec<Vec<f32>>> {
        Err(Error::FeatureOff {
            feature: "pretrained",
            what: format!(
                "the occlusion map of model {} (it reads {network} embeddings)",
                self.kind
            ),
        })
    }
}

fn check_patch(side: usize, patch: usize, stride: usize) -> Result<()> {
    if patch == 0 || patch > side {
        return Err(Error::Parameter {
            name: "patch",
            value: patch.to_string(),
            expected: format!("a side from 1 to the image's {side} pixels"),
        });
    }
    if stride == 0 {
        return Err(Error::Parameter {
            name: "stride",
            value: "0".into(),
            expected: "a step of at least 1 pixel".into(),
        });
    }
    Ok(())
}

/// A model's occlusion maps averaged over images of each class: the mean of the absolute maps
/// (how much each place matters, whichever way it pushes) and the mean image they were made on.
#[derive(Debug, Clone)]
pub struct ClassMaps {
    /// The model's name.
    pub model: String,
    /// The two classes, label 0 then label 1 (NORMAL, then PNEUMONIA on the X-rays).
    pub classes: [String; 2],
    /// Label 0, then label 1: the mean absolute map.
    pub maps: [Vec<f32>; 2],
    /// Label 0, then label 1: the mean decoded image.
    pub images: [Vec<f32>; 2],
    /// How many images of each class were averaged.
    pub counts: [usize; 2],
    /// The side of the maps.
    pub side: usize,
}

impl ClassMaps {
    /// The share of each class's mean map in the lungs, the corners and the border.
    pub fn regions(&self) -> [Regions; 2] {
        [
            Regions::of(&self.maps[0], self.side),
            Regions::of(&self.maps[1], self.side),
        ]
    }
}

/// A model's occlusion maps averaged per class over the first `per_class` images of each class
/// in `subset` of `features` (the features the model was trained on, or decoded with its
/// settings). A model on file facts reads each file's header; its maps are zero.
pub fn average_maps(
    model: &Model,
    features: &Features,
    subset: impl Into<Subset>,
    per_class: usize,
    patch: usize,
    stride: usize,
) -> Result<ClassMaps> {
    let subset = subset.into();
    let side = model.decode.side() as usize;
    if features.cols() != side * side || features.network().is_some() {
        return Err(Error::Incompatible {
            what: format!("average occlusion maps of model {}", model.kind),
            reason: format!(
                "give it the pixel features it was decoded for ({side}x{side}); these have {} \
                 values per image",
                features.cols()
            ),
        });
    }
    let column = crate::subset::column_of(features.images(), "averaging occlusion maps")?;
    let subsets = frame::strings(features.images(), column)?;
    let paths = frame::strings(features.images(), columns::PATH)?;
    let names = frame::strings(features.images(), columns::CLASS)?;
    let mut classes = [String::new(), String::new()];
    let mut chosen: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
    for (i, s) in subsets.iter().enumerate() {
        if let Some(name) = classes.get_mut(features.labels()[i] as usize) {
            if name.is_empty() {
                name.clone_from(&names[i]);
            }
        }
        let class = features.labels()[i] as usize;
        if subset == s.as_str() && class < 2 && chosen[class].len() < per_class {
            chosen[class].push(i);
        }
    }
    let mut maps = [vec![0f32; side * side], vec![0f32; side * side]];
    let mut images = maps.clone();
    for class in 0..2 {
        let each: Vec<Occlusion> = chosen[class]
            .par_iter()
            .map(|&i| match model.input {
                Input::Facts => model.occlusion(&paths[i], patch, stride),
                _ => model.occlusion_of(features.row(i), patch, stride),
            })
            .collect::<Result<_>>()?;
        let n = each.len().max(1) as f32;
        for (o, &i) in each.iter().zip(&chosen[class]) {
            for ((m, v), (img, p)) in maps[class]
                .iter_mut()
                .zip(&o.map)
                .zip(images[class].iter_mut().zip(features.row(i)))
            {
                *m += v.abs() / n;
                *img += p / n;
            }
        }
    }
    Ok(ClassMaps {
        model: model.kind.name().to_string(),
        classes,
        maps,
        images,
        counts: [chosen[0].len(), chosen[1].len()],
        side,
    })
}

/// Where each model looks, one row per model and class: `model`, `class`, `images`, the share
/// of the mean absolute map in the `lungs`, the `corners` and the rest of the `border`, and
/// what a uniform map would put in the lungs (`lungs if uniform`, 0.49). A share in the lungs
/// well above 0.49 means the model reads the lungs; a large share in the corners means it reads
/// the markers and text there.
pub fn regions_table(maps: &[ClassMaps]) -> Result<DataFrame> {
    let uniform = area_shares();
    let (mut model, mut class, mut images) = (vec![], vec![], vec![]);
    let (mut lungs, mut corners, mut border) = (vec![], vec![], vec![]);
    for m in maps {
        for (k, r) in m.regions().iter().enumerate() {
            model.push(m.model.clone());
            class.push(m.classes[k].clone());
            images.push(m.counts[k] as u32);
            lungs.push(r.lungs);
            corners.push(r.corners);
            border.push(r.border);
        }
    }
    let rows = model.len();
    let df = df!(
        "model" => model,
        columns::CLASS => class,
        "images" => images,
        "lungs" => lungs,
        "corners" => corners,
        "border" => border,
        "lungs if uniform" => vec![uniform.lungs; rows],
    )
    .ctx("tabulating where the models look")?;
    Ok(frame::fresh(&df))
}
