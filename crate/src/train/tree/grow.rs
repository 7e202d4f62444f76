//! Growing one tree: quantile bins, the weighted Gini split search, leaves with class shares.

use rand::seq::index::sample;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::params::TreeParameters;
use crate::train::samples::Samples;
use crate::{Error, Result};

pub(super) const MAX_BINS: usize = 64;
pub(super) const LEAF: u32 = u32::MAX;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Node {
    /// The feature tested, or `LEAF`.
    pub(super) feature: u32,
    /// Go left when `x[feature] <= threshold`.
    pub(super) threshold: f32,
    pub(super) left: u32,
    pub(super) right: u32,
    /// The weighted share of PNEUMONIA among the training images that reached this node.
    pub(super) value: f32,
}

/// Features cut into quantile bins: `bins[j][i]` is row i's bin of feature j (column-major, so
/// that a split search reads one feature contiguously), `edges[j][b]` the largest value in bin b.
pub(super) struct Binned {
    pub(super) bins: Vec<Vec<u8>>,
    pub(super) edges: Vec<Vec<f32>>,
}

impl Binned {
    pub(super) fn new(x: &Samples) -> Binned {
        let n = x.rows();
        let (bins, edges) = (0..x.cols())
            .into_par_iter()
            .map(|j| {
                let mut values: Vec<f32> = (0..n).map(|i| x.row(i)[j]).collect();
                values.sort_by(|a, b| a.total_cmp(b));
                values.dedup();
                // Up to MAX_BINS edges at evenly spaced quantiles of the distinct values.
                let edges: Vec<f32> = if values.len() <= MAX_BINS {
                    values
                } else {
                    (1..=MAX_BINS)
                        .map(|b| values[(b * values.len()) / MAX_BINS - 1])
                        .collect()
                };
                let bins = (0..n)
                    .map(|i| {
                        edges
                            .partition_point(|&e| e < x.row(i)[j])
                            .min(edges.len() - 1) as u8
                    })
                    .collect();
                (bins, edges)
            })
            .unzip();
        Binned { bins, edges }
    }
}

pub(super) struct Grower<'a> {
    pub(super) binned: &'a Binned,
    pub(super) y: &'a [u32],
    /// Per row: class weight x bootstrap count (0 = not in this tree's sample).
    pub(super) weight: Vec<f64>,
    pub(super) params: &'a TreeParameters,
    pub(super) rng: ChaCha8Rng,
    pub(super) nodes: Vec<Node>,
}

impl Grower<'_> {
    pub(super) fn grow(&mut self, rows: Vec<u32>, depth: u16) -> u32 {
        let (w0, w1, count) = rows.iter().fold((0.0, 0.0, 0usize), |(a, b, c), &i| {
            let w = self.weight[i as usize];
            if self.y[i as usize] == 1 {
                (a, b + w, c + 1)
            } else {
                (a + w, b, c + 1)
            }
        });
        let value = if w0 + w1 > 0.0 {
            (w1 / (w0 + w1)) as f32
        } else {
            0.5
        };
        let id = self.nodes.len() as u32;
        self.nodes.push(Node {
            feature: LEAF,
            threshold: 0.0,
            left: 0,
            right: 0,
            value,
        });
        let min_leaf = self.params.min_samples_leaf.max(1);
        if depth >= self.params.max_depth || w0 == 0.0 || w1 == 0.0 || count < 2 * min_leaf {
            return id;
        }
        let p = self.binned.bins.len();
        let candidates: Vec<usize> = match self.params.max_features {
            Some(m) if m < p => sample(&mut self.rng, p, m.max(1)).into_vec(),
            _ => (0..p).collect(),
        };
        let parent = gini(w0, w1) * (w0 + w1);
        let mut best: Option<(f64, usize, usize)> = None; // (impurity decrease, feature, bin)
        for &j in &candidates {
            let column = &self.binned.bins[j];
            let mut hist = [[0.0f64; 2]; MAX_BINS];
            let mut counts = [0usize; MAX_BINS];
            for &i in &rows {
                let b = column[i as usize] as usize;
                hist[b][self.y[i as usize] as usize] += self.weight[i as usize];
                counts[b] += 1;
            }
            let (mut l0, mut l1, mut ln) = (0.0, 0.0, 0usize);
            for b in 0..self.binned.edges[j].len().saturating_sub(1) {
                l0 += hist[b][0];
                l1 += hist[b][1];
                ln += counts[b];
                if ln < min_leaf || count - ln < min_leaf {
                    continue;
                }
                let (r0, r1) = (w0 - l0, w1 - l1);
                let children = gini(l0, l1) * (l0 + l1) + gini(r0, r1) * (r0 + r1);
                let gain = parent - children;
                if gain > 1e-12 && best.is_none_or(|(g, _, _)| gain > g) {
                    best = Some((gain, j, b));
                }
            }
        }
        let Some((_, feature, bin)) = best else {
            return id;
        };
        let column = &self.binned.bins[feature];
        let (left, right): (Vec<u32>, Vec<u32>) = rows
            .into_iter()
            .partition(|&i| column[i as usize] as usize <= bin);
        let l = self.grow(left, depth + 1);
        let r = self.grow(right, depth + 1);
        let node = &mut self.nodes[id as usize];
        node.feature = feature as u32;
        node.threshold = self.binned.edges[feature][bin];
        node.left = l;
        node.right = r;
        id
    }
}

pub(super) fn gini(a: f64, b: f64) -> f64 {
    let t = a + b;
    if t == 0.0 {
        0.0
    } else {
        1.0 - (a / t).powi(2) - (b / t).powi(2)
    }
}

pub(super) fn class_weights(y: &[u32], balanced: bool) -> Result<[f64; 2]> {
    let positives = y.iter().filter(|&&v| v == 1).count();
    let n = y.len();
    if positives == 0 || positives == n {
        return Err(Error::OneClass {
            what: "a tree".into(),
            found: "training has one".into(),
        });
    }
    Ok(if balanced {
        [
            n as f64 / (2.0 * (n - positives) as f64),
            n as f64 / (2.0 * positives as f64),
        ]
    } else {
        [1.0, 1.0]
    })
}
