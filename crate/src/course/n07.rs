//! Notebook 07, Transfer learning: exercises on the pretrained network's embeddings. The ones
//! that run the network need the cargo feature `pretrained`, as the notebook does.

use super::{choice, Exercise};
#[cfg(feature = "pretrained")]
use crate::{
    decode::Features,
    error::Result,
    subset::Subset,
    train::{self, ModelKind, TrainOptions},
};

/// The test ROC AUC of `kind` after adding models on `embeddings` to an evaluation of `features`.
#[cfg(feature = "pretrained")]
fn pretrained_auc(
    features: &Features,
    embeddings: &Features,
    options: &TrainOptions,
    kind: ModelKind,
) -> Result<f64> {
    let mut evaluation = train::evaluate(features, &options.clone().shortcut(false))?;
    evaluation.add_pretrained(embeddings, options)?;
    Ok(evaluation.result(kind, Subset::Test)?.metrics.roc_auc)
}

/// Try it 1: logistic regression's test ROC AUC on embeddings of exactly decoded images.
#[cfg(feature = "pretrained")]
#[cfg_attr(docsrs, doc(cfg(feature = "pretrained")))]
pub fn exact_embeddings_auc(features: &Features, exact: &Features) -> Result<Exercise<f64>> {
    if !exact.options().is_exact() {
        return Err(crate::Error::Incompatible {
            what: "exact embeddings".into(),
            reason: "these embeddings were decoded with DCT scaling: pass the ones made with \
                     DecodeOptions::new().exact(true)"
                .into(),
        });
    }
    let auc = pretrained_auc(
        features,
        exact,
        &TrainOptions::new(),
        ModelKind::PretrainedLogistic,
    )?;
    Ok(Exercise::new(
        "07 · Try it 1: embeddings of exact decodings",
        auc,
        "The `roc_auc` of the `pretrained: logistic regression` row in the table the cell showed.",
        "q.check(|| Ok(again.result(ModelKind::PretrainedLogistic, \"test\")?.metrics.roc_auc))",
    )
    .within(1e-9))
}

/// Try it 2: the random forest on embeddings with `trees` trees, its test ROC AUC.
#[cfg(feature = "pretrained")]
#[cfg_attr(docsrs, doc(cfg(feature = "pretrained")))]
pub fn forest_on_embeddings_auc(
    features: &Features,
    embeddings: &Features,
    trees: usize,
) -> Result<Exercise<f64>> {
    let auc = pretrained_auc(
        features,
        embeddings,
        &TrainOptions::new().trees(trees),
        ModelKind::PretrainedForest,
    )?;
    Ok(Exercise::new(
        format!("07 · Try it 2: a forest of {trees} trees on embeddings"),
        auc,
        "Evaluate with `TrainOptions::new().trees(20)`, add the pretrained models with the same \
         options, and read the `pretrained: random forest` row's `roc_auc`.",
        "let mut fewer = train::evaluate(&features, &TrainOptions::new().trees(20))?;\n\
         fewer.add_pretrained(&embeddings, &TrainOptions::new().trees(20))?;\n\
         q.check(|| Ok(fewer.result(ModelKind::PretrainedForest, \"test\")?.metrics.roc_auc))",
    )
    .within(1e-9))
}

/// Your code: the best of the network's 1,000 class scores (ImageNet's class number).
#[cfg(feature = "pretrained")]
#[cfg_attr(docsrs, doc(cfg(feature = "pretrained")))]
pub fn best_class(output: &crate::pretrained::Output) -> Exercise<usize> {
    let best = output.top(1).first().map_or(0, |b| b.0);
    Exercise::new(
        "07 · Your code: the network's best class",
        best,
        "Walk the scores with their positions (`.iter().enumerate()`), keep the position of the \
         largest score seen so far, return it.",
        "fn best_class(logits: &[f32]) -> usize {\n    let mut best = 0;\n    \
         for (i, &score) in logits.iter().enumerate() {\n        \
         if score > logits[best] { best = i; }\n    }\n    best\n}",
    )
}

/// Question 1: which of a photo network's layers carry over to X-rays best.
pub fn layers_that_carry_over() -> Exercise<char> {
    choice(
        "07 · Question 1: what carries over from photos",
        &[
            (
                'a',
                "the early layers: edges, blobs and textures, found in any image",
            ),
            ('b', "the last layer: ImageNet's 1,000 class scores"),
            (
                'c',
                "none: a network trained on photos has nothing to say about X-rays",
            ),
        ],
        'a',
        "Which features would a cup, a cat and a chest film have in common?",
        "edges and textures are in every image; object classes are ImageNet's own",
    )
}

/// Question 2: what to check before claiming the network found pneumonia.
pub fn before_claiming() -> Exercise<char> {
    choice(
        "07 · Question 2: before claiming it found pneumonia",
        &[
            ('a', "nothing: a test ROC AUC above 0.9 proves it"),
            (
                'b',
                "that the same score is not reached without the lungs: the shortcut rows (file \
                   facts alone), a test set matched on acquisition, and where the model looks",
            ),
            ('c', "that the network was trained on more photos"),
        ],
        'b',
        "Notebook 05's shortcut rows reach a high ROC AUC without a single pixel.",
        "a score is only evidence of pneumonia once the shortcuts are ruled out",
    )
}
