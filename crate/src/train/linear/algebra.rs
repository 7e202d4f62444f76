//! The sums every linear model shares: dot products, column means, the Gram matrix.

use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::{Accum, Mat, MatRef, Par};

use crate::train::samples::Samples;
use crate::{Error, Result};

/// `a · b`, summed in order. Moving centred weights back to raw features (`b - μ · w`) uses it
/// for every linear model.
pub(super) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// Column means of `x` (f64).
pub(super) fn column_means(x: &Samples) -> Vec<f64> {
    let mut mean = vec![0.0f64; x.cols()];
    for i in 0..x.rows() {
        for (m, &v) in mean.iter_mut().zip(x.row(i)) {
            *m += v as f64;
        }
    }
    let n = x.rows().max(1) as f64;
    mean.iter_mut().for_each(|m| *m /= n);
    mean
}

pub(super) fn check_trainable(x: &Samples, what: &str) -> Result<()> {
    if x.rows() < 2 || x.cols() == 0 {
        return Err(Error::ShapeMismatch {
            what: what.to_string(),
            expected: "at least 2 images with features".into(),
            found: format!("got {} x {}", x.rows(), x.cols()),
        });
    }
    Ok(())
}

/// The lower half of `m mᵀ` in f64. The product runs in f32 over blocks of 1,024 columns (faer's
/// SIMD kernels, half the memory traffic of f64) and the blocks are summed in f64, so no dot
/// product longer than 1,024 terms is accumulated in single precision.
pub(super) fn gram_lower(m: MatRef<'_, f32>) -> Mat<f64> {
    const BLOCK: usize = 1024;
    let (d, k) = (m.nrows(), m.ncols());
    let mut total = Mat::<f64>::zeros(d, d);
    let mut part = Mat::<f32>::zeros(d, d);
    let mut start = 0;
    while start < k {
        let width = BLOCK.min(k - start);
        let block = m.subcols(start, width);
        triangular::matmul(
            part.as_mut(),
            BlockStructure::TriangularLower,
            Accum::Replace,
            block,
            BlockStructure::Rectangular,
            block.transpose(),
            BlockStructure::Rectangular,
            1.0f32,
            Par::rayon(0),
        );
        for j in 0..d {
            for i in j..d {
                total[(i, j)] += part[(i, j)] as f64;
            }
        }
        start += width;
    }
    total
}
