//! How good a model is: the report's regression metrics (RMSE, R²) and the classification
//! metrics a binary task needs (confusion matrix, accuracy, precision, recall, specificity, F1,
//! ROC AUC, the ROC curve).
//!
//! Labels are 0 (NORMAL, the negative class) and 1 (PNEUMONIA, the positive class); a score is
//! any number that grows with the model's belief in PNEUMONIA (a probability, or the linear
//! regression's raw output).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Root mean squared error of `predictions` against the 0/1 `labels`.
///
/// ```
/// # use xray_lab::train::metrics::rmse;
/// assert!((rmse(&[0.0, 1.0, 0.5], &[0, 1, 1]) - (0.25f64 / 3.0).sqrt()).abs() < 1e-12);
/// ```
pub fn rmse(predictions: &[f64], labels: &[u32]) -> f64 {
    if labels.is_empty() {
        return f64::NAN;
    }
    let sum: f64 = predictions
        .iter()
        .zip(labels)
        .map(|(p, &y)| (p - y as f64).powi(2))
        .sum();
    (sum / labels.len() as f64).sqrt()
}

/// Coefficient of determination R² = 1 - SS_res / SS_tot of `predictions` against the 0/1
/// `labels` (NaN when every label is the same: there is no variance to explain).
pub fn r2(predictions: &[f64], labels: &[u32]) -> f64 {
    let n = labels.len() as f64;
    let mean = labels.iter().map(|&y| y as f64).sum::<f64>() / n;
    let total: f64 = labels.iter().map(|&y| (y as f64 - mean).powi(2)).sum();
    if total == 0.0 {
        return f64::NAN;
    }
    let residual: f64 = predictions
        .iter()
        .zip(labels)
        .map(|(p, &y)| (p - y as f64).powi(2))
        .sum();
    1.0 - residual / total
}

/// Counts of a binary confusion matrix: predicted PNEUMONIA when `score >= threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Confusion {
    /// NORMAL predicted NORMAL.
    pub tn: usize,
    /// NORMAL predicted PNEUMONIA.
    pub fp: usize,
    /// PNEUMONIA predicted NORMAL.
    pub fn_: usize,
    /// PNEUMONIA predicted PNEUMONIA.
    pub tp: usize,
}

impl Confusion {
    /// Count predictions `score >= threshold` against `labels`.
    ///
    /// ```
    /// # use xray_lab::train::metrics::Confusion;
    /// let c = Confusion::new(&[0.9, 0.2, 0.7, 0.1], &[1, 1, 0, 0], 0.5);
    /// assert_eq!((c.tp, c.fn_, c.fp, c.tn), (1, 1, 1, 1));
    /// ```
    pub fn new(scores: &[f64], labels: &[u32], threshold: f64) -> Confusion {
        let mut c = Confusion::default();
        for (&s, &y) in scores.iter().zip(labels) {
            match (y == 1, s >= threshold) {
                (true, true) => c.tp += 1,
                (true, false) => c.fn_ += 1,
                (false, true) => c.fp += 1,
                (false, false) => c.tn += 1,
            }
        }
        c
    }
    fn ratio(a: usize, b: usize) -> f64 {
        if b == 0 {
            f64::NAN
        } else {
            a as f64 / b as f64
        }
    }
    /// Share of correct predictions.
    pub fn accuracy(&self) -> f64 {
        Self::ratio(self.tp + self.tn, self.tp + self.tn + self.fp + self.fn_)
    }
    /// Of the images predicted PNEUMONIA, the share that are.
    pub fn precision(&self) -> f64 {
        Self::ratio(self.tp, self.tp + self.fp)
    }
    /// Sensitivity: of the PNEUMONIA images, the share found.
    pub fn recall(&self) -> f64 {
        Self::ratio(self.tp, self.tp + self.fn_)
    }
    /// Of the NORMAL images, the share predicted NORMAL.
    pub fn specificity(&self) -> f64 {
        Self::ratio(self.tn, self.tn + self.fp)
    }
    /// Harmonic mean of precision and recall.
    pub fn f1(&self) -> f64 {
        Self::ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }
    /// Mean of recall and specificity: accuracy as if the classes were balanced.
    pub fn balanced_accuracy(&self) -> f64 {
        (self.recall() + self.specificity()) / 2.0
    }
}

/// Area under the ROC curve: the probability that a random PNEUMONIA image scores above a
/// random NORMAL one (ties count half), computed from ranks (Mann-Whitney U) in O(n log n).
/// NaN when one class is absent; an error when there is not one label per score.
///
/// ```
/// # use xray_lab::train::metrics::roc_auc;
/// assert_eq!(roc_auc(&[0.1, 0.4, 0.35, 0.8], &[0, 0, 1, 1])?, 0.75);
/// assert!(roc_auc(&[0.1, 0.4], &[0]).is_err());
/// # Ok::<(), xray_lab::Error>(())
/// ```
pub fn roc_auc(scores: &[f64], labels: &[u32]) -> Result<f64> {
    one_label_per_score("roc_auc", scores, labels)?;
    let positives = labels.iter().filter(|&&y| y == 1).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return Ok(f64::NAN);
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Average ranks (1-based) over ties, summed over the positives.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += rank * order[i..=j].iter().filter(|&&k| labels[k] == 1).count() as f64;
        i = j + 1;
    }
    let p = positives as f64;
    Ok((rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64))
}

/// The metrics that pair each score with a label refuse lists of different lengths.
fn one_label_per_score(what: &str, scores: &[f64], labels: &[u32]) -> Result<()> {
    if scores.len() == labels.len() {
        return Ok(());
    }
    Err(Error::ShapeMismatch {
        what: what.to_string(),
        expected: format!("one label per score ({} scores)", scores.len()),
        found: format!("{} labels were given", labels.len()),
    })
}

/// One point of a ROC curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RocPoint {
    /// Predict PNEUMONIA at or above this score.
    pub threshold: f64,
    /// False-positive rate (1 - specificity).
    pub fpr: f64,
    /// True-positive rate (recall).
    pub tpr: f64,
}

/// The ROC curve: one point per distinct score, from (0, 0) to (1, 1); an error when there is
/// not one label per score.
///
/// ```
/// # use xray_lab::train::metrics::roc_curve;
/// let curve = roc_curve(&[0.9, 0.1], &[1, 0])?;
/// assert_eq!(curve.last().map(|p| (p.fpr, p.tpr)), Some((1.0, 1.0)));
/// assert!(roc_curve(&[0.9, 0.1, 0.5], &[1, 0]).is_err());
/// # Ok::<(), xray_lab::Error>(())
/// ```
pub fn roc_curve(scores: &[f64], labels: &[u32]) -> Result<Vec<RocPoint>> {
    one_label_per_score("roc_curve", scores, labels)?;
    let positives = labels.iter().filter(|&&y| y == 1).count().max(1) as f64;
    let negatives = labels.iter().filter(|&&y| y != 1).count().max(1) as f64;
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut points = vec![RocPoint {
        threshold: f64::INFINITY,
        fpr: 0.0,
        tpr: 0.0,
    }];
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut i = 0;
    while i < order.len() {
        let threshold = scores[order[i]];
        while i < order.len() && scores[order[i]] == threshold {
            if labels[order[i]] == 1 {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            i += 1;
        }
        points.push(RocPoint {
            threshold,
            fpr: fp / negatives,
            tpr: tp / positives,
        });
    }
    Ok(points)
}

/// The threshold that maximises balanced accuracy (Youden's J = recall + specificity - 1) on
/// these scores: how every model here turns scores into labels, chosen on validation so that
/// the 3-to-1 class imbalance does not push every prediction to PNEUMONIA.
pub fn best_threshold(scores: &[f64], labels: &[u32]) -> Result<f64> {
    let curve = roc_curve(scores, labels)?;
    let mut best = (f64::NEG_INFINITY, 0.5);
    for point in &curve[1..] {
        let j = point.tpr - point.fpr;
        if j > best.0 {
            best = (j, point.threshold);
        }
    }
    Ok(best.1)
}

/// The mean cost per image of predicting PNEUMONIA at `score >= threshold`, when a missed
/// PNEUMONIA costs `missed` and a false alarm (NORMAL called PNEUMONIA) costs `false_alarm`.
///
/// ```
/// # use xray_lab::train::metrics::cost_per_image;
/// // One miss (cost 10) and one false alarm (cost 1) among four images.
/// assert_eq!(cost_per_image(&[0.9, 0.2, 0.7, 0.1], &[1, 1, 0, 0], 0.5, 10.0, 1.0), 11.0 / 4.0);
/// ```
pub fn cost_per_image(
    scores: &[f64],
    labels: &[u32],
    threshold: f64,
    missed: f64,
    false_alarm: f64,
) -> f64 {
    let c = Confusion::new(scores, labels, threshold);
    (c.fn_ as f64 * missed + c.fp as f64 * false_alarm) / scores.len().max(1) as f64
}

/// The threshold with the lowest [`cost_per_image`] on these scores, among every distinct score
/// (and +∞: call everything NORMAL), with that cost; the first cheapest from the highest
/// threshold down. Choose it on validation, then score test with it.
pub fn cheapest_threshold(
    scores: &[f64],
    labels: &[u32],
    missed: f64,
    false_alarm: f64,
) -> Result<(f64, f64)> {
    let mut best = (
        f64::INFINITY,
        cost_per_image(scores, labels, f64::INFINITY, missed, false_alarm),
    );
    for point in roc_curve(scores, labels)?.iter().skip(1) {
        let cost = cost_per_image(scores, labels, point.threshold, missed, false_alarm);
        if cost < best.1 {
            best = (point.threshold, cost);
        }
    }
    Ok(best)
}

/// Every metric of one model on one subset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Images scored.
    pub images: usize,
    /// Root mean squared error of the scores against 0/1 (for a classifier: of its probabilities).
    pub rmse: f64,
    /// R² of the scores against 0/1.
    pub r2: f64,
    /// The threshold used (chosen on validation).
    pub threshold: f64,
    /// Share of correct predictions.
    pub accuracy: f64,
    /// Of those predicted PNEUMONIA, the share that are.
    pub precision: f64,
    /// Sensitivity: of the PNEUMONIA images, the share found.
    pub recall: f64,
    /// Of the NORMAL images, the share predicted NORMAL.
    pub specificity: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Area under the ROC curve.
    pub roc_auc: f64,
    /// The confusion matrix at the threshold.
    pub confusion: Confusion,
}

impl Metrics {
    /// All metrics of `scores` against `labels` at `threshold`; an error when there is not one
    /// label per score.
    pub fn new(scores: &[f64], labels: &[u32], threshold: f64) -> Result<Metrics> {
        let roc_auc = roc_auc(scores, labels)?;
        let confusion = Confusion::new(scores, labels, threshold);
        Ok(Metrics {
            images: labels.len(),
            rmse: rmse(scores, labels),
            r2: r2(scores, labels),
            threshold,
            accuracy: confusion.accuracy(),
            precision: confusion.precision(),
            recall: confusion.recall(),
            specificity: confusion.specificity(),
            f1: confusion.f1(),
            roc_auc,
            confusion,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_confusion_metrics() {
        // 4 positives: 3 found; 4 negatives: 1 false alarm.
        let scores = [0.9, 0.8, 0.7, 0.2, 0.6, 0.3, 0.1, 0.05];
        let labels = [1, 1, 1, 1, 0, 0, 0, 0];
        let m = Metrics::new(&scores, &labels, 0.5).unwrap();
        assert_eq!(
            m.confusion,
            Confusion {
                tn: 3,
                fp: 1,
                fn_: 1,
                tp: 3
            }
        );
        assert_eq!(m.accuracy, 0.75);
        assert_eq!(m.precision, 0.75);
        assert_eq!(m.recall, 0.75);
        assert_eq!(m.specificity, 0.75);
        assert_eq!(m.f1, 0.75);
        // Pairs (pos, neg) ordered right: 0.2 beats 0.1 and 0.05 only -> 16 - 2 wrong... count:
        // positives 0.9, 0.8, 0.7 beat all 4 negatives (12); 0.2 beats 0.1 and 0.05 (2): 14/16.
        assert_eq!(m.roc_auc, 14.0 / 16.0);
    }

    #[test]
    fn auc_counts_ties_as_half_and_matches_the_curve_area() {
        let scores = [0.5, 0.5, 0.2, 0.9, 0.5];
        let labels = [1, 0, 0, 1, 1];
        // Pairs: (0.5,0.5) tie .5, (0.5,0.2) 1, (0.9,*) 2, (0.5b,0.5) .5, (0.5b,0.2) 1 -> 5/6.
        assert!((roc_auc(&scores, &labels).unwrap() - 5.0 / 6.0).abs() < 1e-12);
        let curve = roc_curve(&scores, &labels).unwrap();
        let area: f64 = curve
            .windows(2)
            .map(|w| (w[1].fpr - w[0].fpr) * (w[1].tpr + w[0].tpr) / 2.0)
            .sum();
        assert!((area - 5.0 / 6.0).abs() < 1e-12);
        assert_eq!(curve.last().map(|p| (p.fpr, p.tpr)), Some((1.0, 1.0)));
    }

    #[test]
    fn regression_metrics() {
        let labels = [0, 0, 1, 1];
        assert_eq!(r2(&[0.0, 0.0, 1.0, 1.0], &labels), 1.0);
        assert_eq!(r2(&[0.5; 4], &labels), 0.0);
        assert_eq!(rmse(&[0.5; 4], &labels), 0.5);
        assert!(r2(&[0.5; 2], &[1, 1]).is_nan());
    }

    #[test]
    fn threshold_separates_a_separable_set() {
        let scores = [0.1, 0.2, 0.3, 0.35, 0.6, 0.9];
        let labels = [0, 0, 0, 1, 1, 1];
        let t = best_threshold(&scores, &labels).unwrap();
        assert_eq!(Confusion::new(&scores, &labels, t).accuracy(), 1.0);
    }

    #[test]
    fn a_label_missing_or_extra_is_an_error_not_a_panic() {
        let scores = [0.1, 0.7, 0.4];
        for labels in [&[0, 1][..], &[0, 1, 1, 0][..]] {
            for error in [
                roc_curve(&scores, labels).err(),
                roc_auc(&scores, labels).err(),
                best_threshold(&scores, labels).err(),
                cheapest_threshold(&scores, labels, 10.0, 1.0).err(),
                Metrics::new(&scores, labels, 0.5).err(),
            ] {
                assert!(
                    matches!(&error, Some(Error::ShapeMismatch { found, .. })
                        if found.starts_with(&labels.len().to_string())),
                    "{error:?}"
                );
            }
        }
    }
}
