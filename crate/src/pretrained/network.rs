//! The network: its input, its output, and the forward pass from an image to its embedding.

use std::path::Path;

use image::imageops::FilterType;
use image::{GrayImage, ImageBuffer, Pixel, RgbImage};
use rayon::prelude::*;

use super::layers::{batch_norm, Block, Depthwise, Pointwise, Scratch, Stem};
use super::pth;
use super::weights::weights_path;
use crate::error::{Error, Result};

/// The input side: 224 pixels.
pub const INPUT_SIZE: u32 = 224;
/// Numbers per embedding: 1,280.
pub const EMBEDDING_SIZE: usize = 1280;
/// ImageNet's classes: 1,000.
pub const CLASSES: usize = 1000;

/// EfficientNet-Lite0 with its ImageNet weights, ready to run.
pub struct Network {
    stem: Stem,
    blocks: Vec<Block>,
    head: Pointwise,
    /// The last layer, `CLASSES x EMBEDDING_SIZE`, row-major, and its bias.
    fc: Pointwise,
}

/// One image as the network takes it: 224 x 224 pixels x 3 channels, row-major, normalized.
#[derive(Clone, Debug, PartialEq)]
pub struct Input(Vec<f32>);

impl Input {
    /// The normalized values, pixels x channels.
    pub fn values(&self) -> &[f32] {
        &self.0
    }
}

/// What the network gives for one image.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    /// The 1,280 averages of the last convolution layer (after its ReLU6): the features.
    pub embedding: Vec<f32>,
    /// ImageNet's 1,000 class scores (before softmax).
    pub logits: Vec<f32>,
}

impl Output {
    /// The `k` best ImageNet classes, as (class index, probability), best first.
    pub fn top(&self, k: usize) -> Vec<(usize, f32)> {
        let max = self
            .logits
            .iter()
            .cloned()
            .fold(f32::NEG_INFINITY, f32::max);
        let exp: Vec<f32> = self.logits.iter().map(|v| (v - max).exp()).collect();
        let sum: f32 = exp.iter().sum();
        let mut ranked: Vec<(usize, f32)> = exp.iter().map(|e| e / sum).enumerate().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        ranked.truncate(k);
        ranked
    }
}

/// Block `i` of the network, from its weights: `(input channels, kernel, stride, expansion,
/// output channels)`. An expansion (1x1) unless the expansion is 1, the depthwise convolution,
/// the projection (1x1), and a residual sum when the shape stays the same.
fn block(
    take: &mut impl FnMut(&str, &[usize]) -> Result<Vec<f32>>,
    i: usize,
    (channels, kernel, stride, expand, out): (usize, usize, usize, usize, usize),
) -> Result<Block> {
    let p = format!("_blocks.{i}.");
    let inner = channels * expand;
    let expand_layer = if expand != 1 {
        let w = take(&format!("{p}_expand_conv.weight"), &[inner, channels, 1, 1])?;
        let (scale, shift) = batch_norm(take, &format!("{p}_bn0"), inner)?;
        Some(Pointwise::new(w, &scale, shift, inner, channels))
    } else {
        None
    };
    let w = take(
        &format!("{p}_depthwise_conv.weight"),
        &[inner, 1, kernel, kernel],
    )?;
    let (scale, shift) = batch_norm(take, &format!("{p}_bn1"), inner)?;
    let depthwise = Depthwise::new(&w, &scale, shift, inner, kernel, stride);
    let w = take(&format!("{p}_project_conv.weight"), &[out, inner, 1, 1])?;
    let (scale, shift) = batch_norm(take, &format!("{p}_bn2"), out)?;
    let project = Pointwise::new(w, &scale, shift, out, inner);
    Ok(Block {
        expand: expand_layer,
        depthwise,
        project,
        residual: stride == 1 && channels == out,
    })
}

impl Network {
    /// Reads the weights from where the set-up puts them ([`weights_path`]).
    pub fn from_cache() -> Result<Network> {
        Network::load(weights_path())
    }

    /// The network read once per process from [`weights_path`]: what a saved model trained on
    /// embeddings uses to predict a file.
    pub fn shared() -> Result<&'static Network> {
        static NETWORK: std::sync::OnceLock<Network> = std::sync::OnceLock::new();
        if let Some(network) = NETWORK.get() {
            return Ok(network);
        }
        let network = Network::from_cache()?;
        Ok(NETWORK.get_or_init(|| network))
    }

    /// Reads the weights from a `.pth` file (`efficientnet-lite0-57934424.pth`).
    pub fn load(path: impl AsRef<Path>) -> Result<Network> {
        let path = path.as_ref();
        let mut weights = pth::read_weights(path)?;
        let bad = |reason: String| Error::Format {
            path: path.to_path_buf(),
            reason,
        };
        let mut take = |name: &str, shape: &[usize]| -> Result<Vec<f32>> {
            let w = weights.remove(name).ok_or_else(|| {
                bad(format!(
                    "no tensor {name}: not EfficientNet-Lite0's weights"
                ))
            })?;
            if w.shape != shape {
                return Err(bad(format!(
                    "{name} has shape {:?}, EfficientNet-Lite0 has {shape:?}",
                    w.shape
                )));
            }
            Ok(w.data)
        };

        let stem_w = take("_conv_stem.weight", &[32, 3, 3, 3])?;
        let (scale, shift) = batch_norm(&mut take, "_bn0", 32)?;
        let stem = Stem::new(&stem_w, &scale, shift);

        // (repeats, kernel, stride, expansion, output channels) of each stage, from the
        // reference's `efficientnet_lite` block strings ('r1_k3_s11_e1_i32_o16', ...).
        const STAGES: [(usize, usize, usize, usize, usize); 7] = [
            (1, 3, 1, 1, 16),
            (2, 3, 2, 6, 24),
            (2, 5, 2, 6, 40),
            (3, 3, 2, 6, 80),
            (3, 5, 1, 6, 112),
            (4, 5, 2, 6, 192),
            (1, 3, 1, 6, 320),
        ];
        let mut blocks = Vec::new();
        let mut channels = 32;
        for (repeats, kernel, stride, expand, out) in STAGES {
            for r in 0..repeats {
                let stride = if r == 0 { stride } else { 1 };
                let shape = (channels, kernel, stride, expand, out);
                blocks.push(block(&mut take, blocks.len(), shape)?);
                channels = out;
            }
        }
        let w = take("_conv_head.weight", &[EMBEDDING_SIZE, channels, 1, 1])?;
        let (scale, shift) = batch_norm(&mut take, "_bn1", EMBEDDING_SIZE)?;
        let head = Pointwise::new(w, &scale, shift, EMBEDDING_SIZE, channels);
        let w = take("_fc.weight", &[CLASSES, EMBEDDING_SIZE])?;
        let b = take("_fc.bias", &[CLASSES])?;
        let fc = Pointwise::new(w, &vec![1.0; CLASSES], b, CLASSES, EMBEDDING_SIZE);
        Ok(Network {
            stem,
            blocks,
            head,
            fc,
        })
    }

    /// A grayscale image as the network's input: resized to 224x224 if it is not (Catmull-Rom),
    /// its one channel repeated three times, `(v - 127) / 128`.
    pub fn input_from_gray(&self, image: &GrayImage) -> Input {
        let pixels = at_input_size(image);
        Input(pixels.iter().flat_map(|&v| [normalize(v); 3]).collect())
    }

    /// An RGB image as the network's input: resized to 224x224 if it is not (Catmull-Rom),
    /// `(v - 127) / 128`.
    pub fn input_from_rgb(&self, image: &RgbImage) -> Input {
        Input(at_input_size(image).iter().map(|&v| normalize(v)).collect())
    }

    /// Runs one image on the calling thread.
    pub fn run(&self, input: &Input) -> Output {
        let side = INPUT_SIZE as usize;
        let mut scratch = Scratch::default();
        let (mut x, mut h, mut w) = self.stem.run(&input.0, side, side);
        for block in &self.blocks {
            (x, h, w) = block.run(x, h, w, &mut scratch);
        }
        let pixels = h * w;
        let mut features = vec![0f32; pixels * EMBEDDING_SIZE];
        self.head.run(&x, pixels, &mut features, true);
        let mut embedding = vec![0f32; EMBEDDING_SIZE];
        for row in features.chunks_exact(EMBEDDING_SIZE) {
            for (e, v) in embedding.iter_mut().zip(row) {
                *e += v;
            }
        }
        for e in &mut embedding {
            *e /= pixels as f32;
        }
        let mut logits = vec![0f32; CLASSES];
        self.fc.run(&embedding, 1, &mut logits, false);
        Output { embedding, logits }
    }

    /// Runs many images, one per core at a time; the outputs keep the inputs' order.
    pub fn run_batch(&self, inputs: &[Input]) -> Vec<Output> {
        inputs.par_iter().map(|input| self.run(input)).collect()
    }
}

/// The image's bytes at 224x224: as they are, or resized.
fn at_input_size<P>(image: &ImageBuffer<P, Vec<u8>>) -> std::borrow::Cow<'_, [u8]>
where
    P: Pixel<Subpixel = u8> + 'static,
{
    if image.dimensions() == (INPUT_SIZE, INPUT_SIZE) {
        std::borrow::Cow::Borrowed(image.as_raw())
    } else {
        let resized =
            image::imageops::resize(image, INPUT_SIZE, INPUT_SIZE, FilterType::CatmullRom);
        std::borrow::Cow::Owned(resized.into_raw())
    }
}

fn normalize(v: u8) -> f32 {
    (v as f32 - 127.0) / 128.0
}
