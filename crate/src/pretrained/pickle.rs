//! The pickle machine, as far as a PyTorch state dict needs: the opcodes `torch.save` writes,
//! and the only callables it may name (tensors rebuilt from storages, ordered dicts), so that a
//! weight file cannot run code.

use std::collections::HashMap;

/// A pickled value, as far as a state dict needs.
#[derive(Debug, Clone)]
pub(super) enum Value {
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
pub(super) struct Tensor {
    pub(super) storage: String,
    pub(super) element_size: usize,
    pub(super) is_f32: bool,
    pub(super) offset: usize,
    pub(super) shape: Vec<usize>,
    pub(super) stride: Vec<usize>,
}

pub(super) struct Reader<'a> {
    pub(super) bytes: &'a [u8],
    pub(super) at: usize,
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
    pub(super) fn pickle(&mut self, what: &str) -> std::result::Result<Value, String> {
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
pub(super) struct Machine {
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
pub(super) fn reduce(callable: Value, args: Value) -> std::result::Result<Value, String> {
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
