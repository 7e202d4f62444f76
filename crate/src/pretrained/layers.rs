//! The network's layers (stem, depthwise and pointwise convolutions, inverted-residual
//! blocks), hand-written over faer's matrix product.

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

use crate::error::Result;

/// Batch norm's epsilon in every layer of the Lite networks.
const BN_EPS: f32 = 1e-3;

/// Reads a batch norm's four tensors and returns it as a per-channel scale and shift.
pub(super) fn batch_norm(
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

pub(super) fn relu6(v: f32) -> f32 {
    v.clamp(0.0, 6.0)
}

/// TensorFlow's "SAME" padding: the output side and the padding before (the rest goes after).
pub(super) fn same_padding(side: usize, kernel: usize, stride: usize) -> (usize, usize) {
    let out = side.div_ceil(stride);
    let total = ((out - 1) * stride + kernel).saturating_sub(side);
    (out, total / 2)
}

/// Buffers reused from layer to layer of one image.
#[derive(Default)]
pub(super) struct Scratch {
    pub(super) expanded: Vec<f32>,
    pub(super) depthwise: Vec<f32>,
}

/// The stem: a 3x3 stride-2 convolution from 3 to 32 channels, batch norm folded, ReLU6.
pub(super) struct Stem {
    /// `27 x 32`, row-major: (ky, kx, input channel) by output channel.
    pub(super) weight: Vec<f32>,
    pub(super) bias: Vec<f32>,
}

impl Stem {
    pub(super) fn new(w: &[f32], scale: &[f32], bias: Vec<f32>) -> Stem {
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

    pub(super) fn run(&self, x: &[f32], h: usize, w: usize) -> (Vec<f32>, usize, usize) {
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
pub(super) struct Pointwise {
    /// `outputs x inputs`, row-major.
    pub(super) weight: Vec<f32>,
    pub(super) bias: Vec<f32>,
    pub(super) outputs: usize,
    pub(super) inputs: usize,
}

impl Pointwise {
    pub(super) fn new(
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
    pub(super) fn run(&self, x: &[f32], pixels: usize, out: &mut [f32], activate: bool) {
        let weight = MatRef::from_row_major_slice(&self.weight, self.outputs, self.inputs);
        product(x, pixels, self.inputs, weight.transpose(), &self.bias, out);
        if activate {
            out.iter_mut().for_each(|v| *v = relu6(*v));
        }
    }
}

/// `out = x w + bias` (bias added to every row): `x` is `rows x inner` row-major, `w` is
/// `inner x cols`. One thread: images run in parallel instead.
pub(super) fn product(
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
pub(super) struct Depthwise {
    /// `k*k x channels`: tap by channel, so that a tap's weights for all channels are adjacent.
    pub(super) weight: Vec<f32>,
    pub(super) bias: Vec<f32>,
    pub(super) channels: usize,
    pub(super) kernel: usize,
    pub(super) stride: usize,
}

impl Depthwise {
    pub(super) fn new(
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
    pub(super) fn run(&self, x: &[f32], h: usize, w: usize, out: &mut Vec<f32>) -> (usize, usize) {
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
pub(super) struct Block {
    pub(super) expand: Option<Pointwise>,
    pub(super) depthwise: Depthwise,
    pub(super) project: Pointwise,
    pub(super) residual: bool,
}

impl Block {
    pub(super) fn run(
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
