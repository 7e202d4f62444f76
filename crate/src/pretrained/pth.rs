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

/// A pickled value, as far as a state dict needs.
#[derive(Debug, Clone)]
enum Value {
    None,
    Bool,
    Int(i64),
    Float,
    Str(String),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    /// A `module.name` from GLOBAL.
    Global(String),
    /// A persistent id (the storage reference).
    Persistent(Box<Value>),
    Tensor(Tensor),
    Mark,
}

#[derive(Debug, Clone)]
struct Tensor {
    storage: String,
    element_size: usize,
    is_f32: bool,
    offset: usize,
    shape: Vec<usize>,
    stride: Vec<usize>,
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], String> {
        let slice = self
            .bytes
            .get(self.at..self.at + n)
            .ok_or("the file ends inside a pickle")?;
        self.at += n;
        Ok(slice)
    }

    fn u8(&mut self) -> std::result::Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> std::result::Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn line(&mut self) -> std::result::Result<String, String> {
        let rest = &self.bytes[self.at.min(self.bytes.len())..];
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or("the file ends inside a pickle")?;
        self.at += end + 1;
        Ok(String::from_utf8_lossy(&rest[..end]).into_owned())
    }

    /// Runs one pickle up to its STOP and returns its value. `what` names it in errors.
    fn pickle(&mut self, what: &str) -> std::result::Result<Value, String> {
        self.run().map_err(|e| format!("reading {what}: {e}"))
    }

    fn run(&mut self) -> std::result::Result<Value, String> {
        let mut machine = Machine::default();
        loop {
            let op = self.u8()?;
            if op == b'.' {
                return machine.pop(); // STOP
            }
            if op == 0x80 {
                self.u8()?; // PROTO n
                continue;
            }
            if let Some(value) = self.literal(op)? {
                machine.stack.push(value);
            } else if !machine.container(op)? && !self.memo(op, &mut machine)? {
                return Err(format!("unsupported pickle opcode 0x{op:02x}"));
            }
        }
    }

    /// The value a literal opcode pushes (numbers, strings, globals, MARK), or `None` when `op`
    /// is not one.
    fn literal(&mut self, op: u8) -> std::result::Result<Option<Value>, String> {
        Ok(Some(match op {
            b'(' => Value::Mark,
            b'N' => Value::None,
            0x88 | 0x89 => Value::Bool,
            b'K' => Value::Int(self.u8()? as i64),
            b'M' => {
                Value::Int(u16::from_le_bytes(self.take(2)?.try_into().expect("2 bytes")) as i64)
            }
            b'J' => Value::Int(self.u32()? as i32 as i64),
            0x8a => Value::Int(self.long1()?),
            b'G' => {
                self.take(8)?; // BINFLOAT: no float matters in a state dict
                Value::Float
            }
            b'X' => {
                let n = self.u32()? as usize;
                Value::Str(String::from_utf8_lossy(self.take(n)?).into_owned())
            }
            0x8c => {
                let n = self.u8()? as usize;
                Value::Str(String::from_utf8_lossy(self.take(n)?).into_owned())
            }
            b'c' => {
                let module = self.line()?;
                let name = self.line()?;
                Value::Global(format!("{module}.{name}"))
            }
            _ => return Ok(None),
        }))
    }

    /// LONG1: a little-endian two's-complement integer of n bytes.
    fn long1(&mut self) -> std::result::Result<i64, String> {
        let n = self.u8()? as usize;
        let digits = self.take(n)?;
        if n > 8 {
            return Err(format!("an integer of {n} bytes"));
        }
        let mut v: i64 = 0;
        for (i, &b) in digits.iter().enumerate() {
            v |= (b as i64) << (8 * i);
        }
        if n > 0 && n < 8 && digits[n - 1] & 0x80 != 0 {
            v -= 1i64 << (8 * n);
        }
        Ok(v)
    }

    /// The memo opcodes (PUT, GET): `false` when `op` is not one.
    fn memo(&mut self, op: u8, machine: &mut Machine) -> std::result::Result<bool, String> {
        match op {
            b'q' | b'r' => {
                let id = if op == b'q' {
                    self.u8()? as u32
                } else {
                    self.u32()?
                };
                let top = machine.stack.last().ok_or("empty stack")?.clone();
                machine.memo.insert(id, top);
            }
            b'h' | b'j' => {
                let id = if op == b'h' {
                    self.u8()? as u32
                } else {
                    self.u32()?
                };
                let v = machine
                    .memo
                    .get(&id)
                    .ok_or(format!("memo {id} unset"))?
                    .clone();
                machine.stack.push(v)
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// The pickle machine's state: its stack and its memo.
#[derive(Default)]
struct Machine {
    stack: Vec<Value>,
    memo: HashMap<u32, Value>,
}

impl Machine {
    fn pop(&mut self) -> std::result::Result<Value, String> {
        self.stack.pop().ok_or_else(|| "empty stack".to_string())
    }

    /// The items above the topmost MARK, which is removed with them.
    fn pop_mark(&mut self) -> std::result::Result<Vec<Value>, String> {
        let mark = self
            .stack
            .iter()
            .rposition(|v| matches!(v, Value::Mark))
            .ok_or("no MARK")?;
        let items = self.stack.split_off(mark + 1);
        self.stack.pop();
        Ok(items)
    }

    /// The opcodes that build tuples, lists and dicts, persistent ids, and reduce or build
    /// objects from what is on the stack: `false` when `op` is not one.
    fn container(&mut self, op: u8) -> std::result::Result<bool, String> {
        match op {
            b')' => self.stack.push(Value::Tuple(vec![])),
            b't' => {
                let items = self.pop_mark()?;
                self.stack.push(Value::Tuple(items))
            }
            0x85..=0x87 => {
                let n = (op - 0x84) as usize;
                if self.stack.len() < n {
                    return Err("empty stack".into());
                }
                let items = self.stack.split_off(self.stack.len() - n);
                self.stack.push(Value::Tuple(items))
            }
            b']' => self.stack.push(Value::List(vec![])),
            b'}' => self.stack.push(Value::Dict(vec![])),
            b'a' | b'e' => {
                let items = if op == b'a' {
                    vec![self.pop()?]
                } else {
                    self.pop_mark()?
                };
                match self.stack.last_mut() {
                    Some(Value::List(l)) => l.extend(items),
                    _ => return Err("APPEND to a non-list".into()),
                }
            }
            b's' | b'u' => {
                let items = if op == b's' {
                    let v = self.pop()?;
                    vec![self.pop()?, v]
                } else {
                    self.pop_mark()?
                };
                if items.len() % 2 != 0 {
                    return Err("SETITEMS with an odd number of items".into());
                }
                let mut items = items.into_iter();
                match self.stack.last_mut() {
                    Some(Value::Dict(d)) => {
                        while let (Some(k), Some(v)) = (items.next(), items.next()) {
                            d.push((k, v));
                        }
                    }
                    _ => return Err("SETITEM on a non-dict".into()),
                }
            }
            b'Q' => {
                let id = self.pop()?;
                self.stack.push(Value::Persistent(Box::new(id)))
            }
            b'R' => {
                let args = self.pop()?;
                let callable = self.pop()?;
                self.stack.push(reduce(callable, args)?)
            }
            b'b' => {
                // BUILD: a state dict's `_metadata` (version numbers per module): dropped.
                self.pop()?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// Calls one of the callables a state dict uses.
fn reduce(callable: Value, args: Value) -> std::result::Result<Value, String> {
    let Value::Global(name) = callable else {
        return Err(format!("calling {callable:?}"));
    };
    let Value::Tuple(mut args) = args else {
        return Err(format!("{name} called with {args:?}"));
    };
    match name.as_str() {
        "collections.OrderedDict" => Ok(Value::Dict(vec![])),
        "torch._utils._rebuild_parameter" if !args.is_empty() => Ok(args.swap_remove(0)),
        "torch._utils._rebuild_tensor_v2" if args.len() >= 4 => {
            let ints = |v: &Value| -> std::result::Result<Vec<usize>, String> {
                match v {
                    Value::Tuple(items) => items
                        .iter()
                        .map(|i| match i {
                            Value::Int(n) if *n >= 0 => Ok(*n as usize),
                            other => Err(format!("a size of {other:?}")),
                        })
                        .collect(),
                    other => Err(format!("sizes {other:?}")),
                }
            };
            let shape = ints(&args[2])?;
            let stride = ints(&args[3])?;
            let offset = match args[1] {
                Value::Int(n) if n >= 0 => n as usize,
                ref other => return Err(format!("a storage offset of {other:?}")),
            };
            let Value::Persistent(id) = &args[0] else {
                return Err("a tensor without a storage".into());
            };
            let Value::Tuple(id) = id.as_ref() else {
                return Err(format!("a storage id {id:?}"));
            };
            let (Some(Value::Global(kind)), Some(Value::Str(key))) = (id.get(1), id.get(2)) else {
                return Err(format!("a storage id {id:?}"));
            };
            let element_size = match kind.as_str() {
                "torch.FloatStorage" => 4,
                "torch.LongStorage" | "torch.DoubleStorage" => 8,
                "torch.IntStorage" => 4,
                "torch.HalfStorage" | "torch.BFloat16Storage" => 2,
                "torch.ByteStorage" | "torch.BoolStorage" | "torch.CharStorage" => 1,
                other => return Err(format!("a storage of type {other}")),
            };
            Ok(Value::Tensor(Tensor {
                storage: key.clone(),
                element_size,
                is_f32: kind == "torch.FloatStorage",
                offset,
                shape,
                stride,
            }))
        }
        other => Err(format!(
            "the file calls {other}, which a state dict does not"
        )),
    }
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
