//! Reads the `f32` tensors of a PyTorch state dict saved by `torch.save` in its legacy format
//! (PyTorch before 1.6, as the weight wheel's file is).
//!
//! The file is five pickles — a magic number, the protocol version, the system's sizes, the
//! state dict (each tensor a call to `torch._utils._rebuild_tensor_v2` whose storage is a
//! *persistent id*: `('storage', torch.FloatStorage, key, location, count)`), the list of
//! storage keys — then each storage's raw little-endian values after its count (8 bytes), in
//! the order of that list.
//!
//! Why by hand: the pickle readers on crates.io either do not take persistent ids
//! (serde-pickle) or come with a machine-learning framework. candle-core's reads only the newer
//! zip format, and adding candle-core to the crate changed the features of shared dependencies
//! (syn, half, regex-automata, ...) so that the next build recompiled polars and everything
//! else (measured: 15 minutes on 2 cores). The state dict needs 30 of pickle's opcodes and no
//! code execution: this reader builds plain values and recognizes the three callables a state
//! dict uses (`OrderedDict`, `_rebuild_tensor_v2`, `_rebuild_parameter`); anything else is an
//! error that names the file.

use std::collections::HashMap;
use std::path::Path;

use super::pickle::{Reader, Tensor, Value};
use crate::error::{Error, Result};

/// A tensor read from a `.pth` file: its shape and its values.
pub(crate) struct Weight {
    pub(crate) shape: Vec<usize>,
    pub(crate) data: Vec<f32>,
}

/// The magic number 0x1950a86a20f9469cfc6c as pickle protocol 2 writes it.
const MAGIC: [u8; 15] = [
    0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e,
];

/// Reads every `f32` tensor of the state dict in `path`, by name.
pub(crate) fn read_weights(path: &Path) -> Result<HashMap<String, Weight>> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::MissingWeights(path.to_path_buf()),
        _ => Error::io(path, e),
    })?;
    parse(&bytes).map_err(|reason| Error::Format {
        path: path.to_path_buf(),
        reason,
    })
}

fn parse(bytes: &[u8]) -> std::result::Result<HashMap<String, Weight>, String> {
    if !bytes.starts_with(&MAGIC) {
        return Err(
            "not a PyTorch file in the legacy torch.save format (wrong magic number)".into(),
        );
    }
    let mut r = Reader {
        bytes,
        at: MAGIC.len(),
    };
    match r.pickle("the protocol version")? {
        Value::Int(1001) => {}
        other => return Err(format!("protocol version {other:?}, expected 1001")),
    }
    r.pickle("the system information")?;
    let state = r.pickle("the state dict")?;
    let keys = match r.pickle("the storage keys")? {
        Value::List(keys) => keys
            .into_iter()
            .map(|k| match k {
                Value::Str(s) => Ok(s),
                other => Err(format!("a storage key is {other:?}")),
            })
            .collect::<std::result::Result<Vec<String>, String>>()?,
        other => return Err(format!("the storage keys are {other:?}")),
    };
    let Value::Dict(entries) = state else {
        return Err("the file does not hold a state dict".into());
    };
    let tensors: Vec<(String, Tensor)> = entries
        .into_iter()
        .filter_map(|(name, value)| match (name, value) {
            (Value::Str(name), Value::Tensor(t)) => Some((name, t)),
            _ => None,
        })
        .collect();
    let element_size: HashMap<&str, usize> = tensors
        .iter()
        .map(|(_, t)| (t.storage.as_str(), t.element_size))
        .collect();

    let storages = storage_spans(bytes, r.at, &keys, &element_size)?;
    let mut weights = HashMap::new();
    for (name, t) in tensors {
        if !t.is_f32 {
            continue; // batch norm's num_batches_tracked (int64): not a weight
        }
        let span = *storages
            .get(t.storage.as_str())
            .ok_or_else(|| format!("{name}: storage {} is missing", t.storage))?;
        let data = gather(bytes, &name, &t, span)?;
        weights.insert(
            name,
            Weight {
                shape: t.shape,
                data,
            },
        );
    }
    Ok(weights)
}

/// Where each storage's values start and how many it holds: the storages follow the pickles
/// (from `at`) one after another, each after its element count.
fn storage_spans<'k>(
    bytes: &[u8],
    mut at: usize,
    keys: &'k [String],
    element_size: &HashMap<&str, usize>,
) -> std::result::Result<HashMap<&'k str, (usize, usize)>, String> {
    let mut storages = HashMap::new();
    for key in keys {
        let count = bytes
            .get(at..at + 8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
            .ok_or_else(|| format!("the file ends before storage {key}"))?;
        at += 8;
        let size = element_size.get(key.as_str()).copied().unwrap_or(4);
        let end = count
            .checked_mul(size)
            .and_then(|n| n.checked_add(at))
            .filter(|&end| end <= bytes.len())
            .ok_or_else(|| format!("the file ends inside storage {key}"))?;
        storages.insert(key.as_str(), (at, count));
        at = end;
    }
    Ok(storages)
}

/// Tensor `t`'s float32 values in row-major order, from its storage at `(start, count)`. Some
/// tensors are stored strided (the stem's weights channels-last, as converted from TensorFlow):
/// they are gathered.
fn gather(
    bytes: &[u8],
    name: &str,
    t: &Tensor,
    (start, count): (usize, usize),
) -> std::result::Result<Vec<f32>, String> {
    let numel: usize = t.shape.iter().product();
    let last = t.offset
        + t.shape
            .iter()
            .zip(&t.stride)
            .map(|(d, s)| d.saturating_sub(1) * s)
            .sum::<usize>();
    if t.shape.len() != t.stride.len() || (numel > 0 && last >= count) {
        return Err(format!("{name}: goes past the end of its storage"));
    }
    let value = |i: usize| {
        let b = &bytes[start + i * 4..start + i * 4 + 4];
        f32::from_le_bytes([b[0], b[1], b[2], b[3]])
    };
    let mut data = Vec::with_capacity(numel);
    let mut index = vec![0usize; t.shape.len()];
    for _ in 0..numel {
        let at = t.offset
            + index
                .iter()
                .zip(&t.stride)
                .map(|(i, s)| i * s)
                .sum::<usize>();
        data.push(value(at));
        for d in (0..index.len()).rev() {
            index[d] += 1;
            if index[d] < t.shape[d] {
                break;
            }
            index[d] = 0;
        }
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_the_magic_number_is_refused() {
        let err = parse(b"PK\x03\x04").err().unwrap();
        assert!(err.contains("magic"), "{err}");
    }

    #[test]
    fn a_pickle_that_calls_anything_else_is_refused() {
        // MAGIC, protocol 1001, {} , then a pickle calling os.system("x").
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(b"\x80\x02M\xe9\x03.");
        bytes.extend_from_slice(b"\x80\x02}.");
        bytes.extend_from_slice(b"\x80\x02cos\nsystem\nX\x01\x00\x00\x00x\x85R.");
        let err = parse(&bytes).err().unwrap();
        assert!(err.contains("os.system"), "{err}");
    }
}
