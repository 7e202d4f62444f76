//! Principal component analysis, for the decision tree's inputs.

use faer::{MatRef, Side};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::algebra::{check_trainable, column_means, gram_lower};
use crate::train::samples::Samples;
use crate::{Error, Result};

/// Principal component analysis: the directions of largest variance, for models that suffer
/// from many correlated features (trees on pixels). Fitted by the eigendecomposition of the
/// p x p covariance matrix (faer), so meant for hundreds of features (30x30 block means: about
/// 0.3 s), not 22,500 pixels.
///
/// ```
/// use xray_lab::train::{Samples, linear::Pca};
/// // Points along the diagonal: one component carries all the variance.
/// let x = Samples::new(vec![0., 0., 1., 1., 2., 2., 3., 3.], 2, vec![0, 0, 1, 1])?;
/// let pca = Pca::fit(&x, 1)?;
/// let scores = pca.transform(&x)?;
/// assert!((scores.row(3)[0] - scores.row(0)[0]).abs() > 4.0);
/// # Ok::<(), xray_lab::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pca {
    /// Column means of the training features.
    pub mean: Vec<f64>,
    /// `k` unit vectors of `p` values, by decreasing variance.
    pub components: Vec<Vec<f64>>,
    /// The variance along each component.
    pub variance: Vec<f64>,
}

impl Pca {
    /// The first `k` principal components of `x`.
    pub fn fit(x: &Samples, k: usize) -> Result<Pca> {
        check_trainable(x, "PCA")?;
        let (n, p) = (x.rows(), x.cols());
        let k = k.clamp(1, p);
        let mean = column_means(x);
        let mut xc = vec![0f32; n * p];
        xc.par_chunks_mut(p).enumerate().for_each(|(i, out)| {
            for ((o, &v), &m) in out.iter_mut().zip(x.row(i)).zip(&mean) {
                *o = (v as f64 - m) as f32;
            }
        });
        let cov = gram_lower(MatRef::from_row_major_slice(&xc, n, p).transpose());
        let eigen = cov
            .self_adjoint_eigen(Side::Lower)
            .map_err(|e| Error::Fit {
                model: "PCA".into(),
                reason: format!("the eigendecomposition failed: {e:?}"),
            })?;
        let (values, vectors) = (eigen.S(), eigen.U());
        // Eigenvalues come in increasing order: take the last k, largest first, each vector's
        // sign fixed (largest entry positive) so that the same data gives the same components.
        let mut components = Vec::with_capacity(k);
        let mut variance = Vec::with_capacity(k);
        for c in (p - k..p).rev() {
            let mut v: Vec<f64> = (0..p).map(|r| vectors[(r, c)]).collect();
            let largest = v
                .iter()
                .copied()
                .fold(0.0f64, |a, b| if b.abs() > a.abs() { b } else { a });
            if largest < 0.0 {
                v.iter_mut().for_each(|x| *x = -*x);
            }
            components.push(v);
            variance.push(values[c] / (n.max(2) - 1) as f64);
        }
        Ok(Pca {
            mean,
            components,
            variance,
        })
    }

    /// The component scores of one row.
    pub fn project(&self, row: &[f32]) -> Vec<f32> {
        self.components
            .iter()
            .map(|c| {
                row.iter()
                    .zip(&self.mean)
                    .zip(c)
                    .map(|((&x, m), v)| (x as f64 - m) * v)
                    .sum::<f64>() as f32
            })
            .collect()
    }

    /// The component scores of every row of `x`.
    pub fn transform(&self, x: &Samples) -> Result<Samples> {
        if x.cols() != self.mean.len() {
            return Err(Error::ShapeMismatch {
                what: "PCA".into(),
                expected: format!("{} features per row, as it was fitted on", self.mean.len()),
                found: format!("the samples have {}", x.cols()),
            });
        }
        let values: Vec<f32> = (0..x.rows()).flat_map(|i| self.project(x.row(i))).collect();
        let mut out = Samples::new(values, self.components.len(), x.y.clone())?;
        out.paths = x.paths.clone();
        Ok(out)
    }
}
