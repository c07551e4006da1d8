//! PyTorch state dicts as `torch.save` writes them (since PyTorch 1.6): a zip archive whose `data.pkl` is a
//! pickle of the dict, naming each tensor's storage, whose bytes are the archive's `data/<key>` entries. A small
//! pickle machine runs the opcodes such a pickle uses and rebuilds the tensors; anything else is an error.

use std::cell::Cell;
use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use tch::{Kind, Tensor};

use crate::{Error, Result};

/// Whether `path` is a zip archive (as `torch.save` writes) rather than another format.
pub(crate) fn is_zip(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    File::open(path).and_then(|mut f| f.read_exact(&mut magic)).is_ok() && magic == *b"PK\x03\x04"
}

/// A value on the pickle machine's stack.
#[derive(Debug)]
enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    /// `module.name`, a callable the machine knows how to apply.
    Global(String),
    /// A storage: its element kind and the archive key of its bytes.
    Storage {
        kind: Kind,
        key: String,
    },
    Tensor(Tensor),
    Mark,
}

fn fail(path: &Path, message: impl Into<String>) -> Error {
    Error::Io { path: path.display().to_string(), message: message.into() }
}

/// Reads every tensor of a `torch.save`d state dict (`.pt`, `.pth`, `.bin`), sorted by name.
pub(crate) fn read(path: &Path) -> Result<Vec<(String, Tensor)>> {
    let mut archive = Archive::open(path)?;
    let pickle_name = archive
        .zip
        .file_names()
        .filter_map(|name| name.ok().map(|name| name.to_string()))
        .find(|name| name.ends_with("/data.pkl"))
        .ok_or_else(|| fail(path, "the archive has no data.pkl"))?;
    let root = pickle_name.trim_end_matches("data.pkl").to_string();
    let pickle = archive.read_entry(&pickle_name)?;
    let copies_left = Cell::new(pickle.len().saturating_mul(COPIES_PER_BYTE).max(MIN_COPIES));
    let machine = Machine { path, archive: &mut archive, root, memo: HashMap::new(), stack: Vec::new(), copies_left };
    let state = machine.run(&pickle)?;
    let Value::Dict(items) = state else { return Err(fail(path, "the pickle is not a dict of tensors")) };
    let mut tensors = Vec::with_capacity(items.len());
    for (key, value) in items {
        match (key, value) {
            (Value::Str(name), Value::Tensor(tensor)) => tensors.push((name, tensor)),
            (Value::Str(name), _) => return Err(fail(path, format!("{name} is not a tensor"))),
            _ => return Err(fail(path, "a state dict key is not a string")),
        }
    }
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(tensors)
}

/// Deflate's largest expansion: no deflated stream decompresses to more than this many bytes per input byte.
const MAX_DEFLATE_RATIO: u64 = 1032;

/// A `torch.save` zip archive and its file's size, which bounds every entry read from it.
struct Archive<'a> {
    path: &'a Path,
    zip: zip::ZipArchive<File>,
    file_size: u64,
}

impl<'a> Archive<'a> {
    /// Opens the archive at `path`, reading its size once.
    fn open(path: &'a Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| fail(path, format!("cannot open: {e}")))?;
        let file_size = file.metadata().map_err(|e| fail(path, format!("cannot read its size: {e}")))?.len();
        let zip = zip::ZipArchive::new(file).map_err(|e| {
            fail(path, format!("not a torch.save zip archive (the pre-1.6 format is not supported): {e}"))
        })?;
        Ok(Archive { path, zip, file_size })
    }

    /// The bytes of entry `name`. Its sizes are checked against the file's before anything is allocated: a stored
    /// entry (as `torch.save` writes them) cannot hold more than its compressed bytes, nor a compressed one more
    /// than deflate can expand them to, and no entry more than the file holds; reading stops at the size the
    /// entry declares.
    fn read_entry(&mut self, name: &str) -> Result<Vec<u8>> {
        let (path, file_size) = (self.path, self.file_size);
        let entry = self.zip.by_name(name).map_err(|e| fail(path, format!("the archive lacks {name}: {e}")))?;
        let (declared, compressed) = (entry.size(), entry.compressed_size());
        let most = match entry.compression() {
            zip::CompressionMethod::Stored => compressed,
            _ => compressed.saturating_mul(MAX_DEFLATE_RATIO),
        };
        if compressed > file_size || declared > most {
            return Err(fail(
                path,
                format!(
                    "entry {name} declares {declared} bytes from {compressed} compressed ones in a file of \
                     {file_size} bytes"
                ),
            ));
        }
        let mut bytes = Vec::with_capacity(declared.min(file_size) as usize);
        entry.take(declared).read_to_end(&mut bytes).map_err(|e| fail(path, format!("cannot read {name}: {e}")))?;
        if bytes.len() as u64 != declared {
            return Err(fail(path, format!("entry {name} holds {} of its {declared} bytes", bytes.len())));
        }
        Ok(bytes)
    }
}

fn storage_kind(name: &str) -> Option<Kind> {
    Some(match name {
        "torch.FloatStorage" => Kind::Float,
        "torch.DoubleStorage" => Kind::Double,
        "torch.HalfStorage" => Kind::Half,
        "torch.BFloat16Storage" => Kind::BFloat16,
        "torch.LongStorage" => Kind::Int64,
        "torch.IntStorage" => Kind::Int,
        "torch.ShortStorage" => Kind::Int16,
        "torch.CharStorage" => Kind::Int8,
        "torch.ByteStorage" => Kind::Uint8,
        "torch.BoolStorage" => Kind::Bool,
        _ => return None,
    })
}

/// The pickle machine for one archive.
struct Machine<'a> {
    path: &'a Path,
    archive: &'a mut Archive<'a>,
    root: String,
    memo: HashMap<u32, usize>,
    stack: Vec<Value>,
    /// How many more values memo reads may copy: a pickle that keeps copying what it copied grows exponentially.
    copies_left: Cell<usize>,
}

/// How deep containers may nest. A state dict nests a few levels; a pickle nesting thousands would overflow the
/// stack when its values are dropped.
const MAX_NESTING: usize = 100;

/// Values memo reads may copy, per byte of pickle (and at least [`MIN_COPIES`]).
const COPIES_PER_BYTE: usize = 16;
const MIN_COPIES: usize = 1 << 20;

impl Machine<'_> {
    fn bad(&self, message: impl Into<String>) -> Error {
        fail(self.path, format!("data.pkl: {}", message.into()))
    }

    /// Errors when `items`, about to go into a container, nest deeper than [`MAX_NESTING`] there.
    fn check_nesting<'v>(&self, items: impl IntoIterator<Item = &'v Value>) -> Result<()> {
        let mut pending: Vec<(&Value, usize)> = items.into_iter().map(|item| (item, 1)).collect();
        while let Some((value, depth)) = pending.pop() {
            if depth > MAX_NESTING {
                return Err(self.bad(format!("values nest deeper than {MAX_NESTING} levels")));
            }
            match value {
                Value::Tuple(items) | Value::List(items) => pending.extend(items.iter().map(|item| (item, depth + 1))),
                Value::Dict(pairs) => pending.extend(pairs.iter().flat_map(|(k, v)| [(k, depth + 1), (v, depth + 1)])),
                _ => {}
            }
        }
        Ok(())
    }

    fn pop(&mut self) -> Result<Value> {
        self.stack.pop().ok_or_else(|| self.bad("the stack ran empty"))
    }

    /// The values above the topmost mark, which is removed.
    fn pop_mark(&mut self) -> Result<Vec<Value>> {
        let at = self.stack.iter().rposition(|v| matches!(v, Value::Mark)).ok_or_else(|| self.bad("no mark"))?;
        let items = self.stack.split_off(at + 1);
        self.stack.pop();
        Ok(items)
    }

    fn run(mut self, pickle: &[u8]) -> Result<Value> {
        let mut at = 0;
        let take = |at: &mut usize, n: usize| -> Option<&[u8]> {
            let bytes = pickle.get(*at..*at + n)?;
            *at += n;
            Some(bytes)
        };
        let mut memo_values: Vec<Value> = Vec::new();
        loop {
            let opcode = *take(&mut at, 1).ok_or_else(|| self.bad("ended without STOP"))?.first().unwrap_or(&0);
            let truncated = || fail(self.path, "data.pkl: truncated");
            match opcode {
                0x80 => {
                    take(&mut at, 1).ok_or_else(truncated)?;
                }
                0x95 => {
                    take(&mut at, 8).ok_or_else(truncated)?;
                }
                b'.' => return self.pop(),
                b'}' => self.stack.push(Value::Dict(Vec::new())),
                b']' => self.stack.push(Value::List(Vec::new())),
                b')' => self.stack.push(Value::Tuple(Vec::new())),
                b'(' => self.stack.push(Value::Mark),
                b'N' => self.stack.push(Value::None),
                0x88 => self.stack.push(Value::Bool(true)),
                0x89 => self.stack.push(Value::Bool(false)),
                b'K' => {
                    let b = take(&mut at, 1).ok_or_else(truncated)?[0];
                    self.stack.push(Value::Int(i64::from(b)));
                }
                b'M' => {
                    let b = take(&mut at, 2).ok_or_else(truncated)?;
                    self.stack.push(Value::Int(i64::from(u16::from_le_bytes([b[0], b[1]]))));
                }
                b'J' => {
                    let b = take(&mut at, 4).ok_or_else(truncated)?;
                    self.stack.push(Value::Int(i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))));
                }
                0x8a => {
                    let n = take(&mut at, 1).ok_or_else(truncated)?[0] as usize;
                    let b = take(&mut at, n).ok_or_else(truncated)?;
                    let mut value: i64 = if b.last().is_some_and(|last| last & 0x80 != 0) { -1 } else { 0 };
                    for byte in b.iter().rev() {
                        value = (value << 8) | i64::from(*byte);
                    }
                    self.stack.push(Value::Int(value));
                }
                b'G' => {
                    let b = take(&mut at, 8).ok_or_else(truncated)?;
                    self.stack.push(Value::Float(f64::from_be_bytes(b.try_into().unwrap_or_default())));
                }
                b'X' | 0x8c => {
                    let n = match opcode {
                        b'X' => {
                            let b = take(&mut at, 4).ok_or_else(truncated)?;
                            u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize
                        }
                        _ => take(&mut at, 1).ok_or_else(truncated)?[0] as usize,
                    };
                    let b = take(&mut at, n).ok_or_else(truncated)?;
                    self.stack.push(Value::Str(String::from_utf8_lossy(b).to_string()));
                }
                b'c' => {
                    let line = |at: &mut usize| -> Option<String> {
                        let end = pickle[*at..].iter().position(|b| *b == b'\n')?;
                        let text = String::from_utf8_lossy(&pickle[*at..*at + end]).to_string();
                        *at += end + 1;
                        Some(text)
                    };
                    let module = line(&mut at).ok_or_else(truncated)?;
                    let name = line(&mut at).ok_or_else(truncated)?;
                    self.stack.push(Value::Global(format!("{module}.{name}")));
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    match (module, name) {
                        (Value::Str(m), Value::Str(n)) => self.stack.push(Value::Global(format!("{m}.{n}"))),
                        _ => return Err(self.bad("STACK_GLOBAL needs two strings")),
                    }
                }
                b'q' | b'r' | 0x94 => {
                    let key = match opcode {
                        b'q' => u32::from(take(&mut at, 1).ok_or_else(truncated)?[0]),
                        b'r' => {
                            let b = take(&mut at, 4).ok_or_else(truncated)?;
                            u32::from_le_bytes([b[0], b[1], b[2], b[3]])
                        }
                        _ => self.memo.len() as u32,
                    };
                    let top = self.stack.last().ok_or_else(|| self.bad("memoize on an empty stack"))?;
                    let copy = self.shallow_copy(top)?;
                    self.memo.insert(key, memo_values.len());
                    memo_values.push(copy);
                }
                b'h' | b'j' => {
                    let key = match opcode {
                        b'h' => u32::from(take(&mut at, 1).ok_or_else(truncated)?[0]),
                        _ => {
                            let b = take(&mut at, 4).ok_or_else(truncated)?;
                            u32::from_le_bytes([b[0], b[1], b[2], b[3]])
                        }
                    };
                    let index = *self.memo.get(&key).ok_or_else(|| self.bad(format!("memo {key} is unset")))?;
                    let copy = self.shallow_copy(&memo_values[index])?;
                    self.stack.push(copy);
                }
                b't' => {
                    let items = self.pop_mark()?;
                    self.check_nesting(&items)?;
                    self.stack.push(Value::Tuple(items));
                }
                0x85..=0x87 => {
                    let n = usize::from(opcode - 0x84);
                    let at_ = self.stack.len().checked_sub(n).ok_or_else(|| self.bad("TUPLE on a short stack"))?;
                    let items = self.stack.split_off(at_);
                    self.check_nesting(&items)?;
                    self.stack.push(Value::Tuple(items));
                }
                b's' => {
                    let value = self.pop()?;
                    let key = self.pop()?;
                    self.check_nesting([&key, &value])?;
                    self.dict_push(vec![(key, value)])?;
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    let mut pairs = Vec::with_capacity(items.len() / 2);
                    let mut items = items.into_iter();
                    while let (Some(k), Some(v)) = (items.next(), items.next()) {
                        pairs.push((k, v));
                    }
                    self.check_nesting(pairs.iter().flat_map(|(k, v)| [k, v]))?;
                    self.dict_push(pairs)?;
                }
                b'a' | b'e' => {
                    let items = if opcode == b'a' { vec![self.pop()?] } else { self.pop_mark()? };
                    self.check_nesting(&items)?;
                    match self.stack.last_mut() {
                        Some(Value::List(list)) => list.extend(items),
                        _ => return Err(self.bad("APPEND to a non-list")),
                    }
                }
                b'Q' => {
                    let id = self.pop()?;
                    let storage = self.persistent(id)?;
                    self.stack.push(storage);
                }
                b'R' => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    let result = self.reduce(callable, args)?;
                    self.stack.push(result);
                }
                b'b' => {
                    // BUILD: the state of an OrderedDict (its `_metadata`) is not needed.
                    self.pop()?;
                }
                other => return Err(self.bad(format!("pickle opcode 0x{other:02x} is not supported"))),
            }
        }
    }

    /// A copy for the memo (tensors are shared handles; containers are rebuilt only when small values), within
    /// the pickle's copy budget.
    fn shallow_copy(&self, value: &Value) -> Result<Value> {
        let left = self.copies_left.get().checked_sub(1).ok_or_else(|| {
            self.bad("its memo copies more values than such a pickle can hold (a self-expanding pickle?)")
        })?;
        self.copies_left.set(left);
        Ok(match value {
            Value::None => Value::None,
            Value::Bool(b) => Value::Bool(*b),
            Value::Int(i) => Value::Int(*i),
            Value::Float(f) => Value::Float(*f),
            Value::Str(s) => Value::Str(s.clone()),
            Value::Global(g) => Value::Global(g.clone()),
            Value::Storage { kind, key } => Value::Storage { kind: *kind, key: key.clone() },
            Value::Tensor(t) => Value::Tensor(t.shallow_clone()),
            Value::Tuple(items) => Value::Tuple(items.iter().map(|v| self.shallow_copy(v)).collect::<Result<_>>()?),
            // A memoized container is only read back as an empty placeholder (e.g. backward hooks).
            Value::List(_) => Value::List(Vec::new()),
            Value::Dict(_) => Value::Dict(Vec::new()),
            Value::Mark => return Err(self.bad("a mark cannot be memoized")),
        })
    }

    fn dict_push(&mut self, pairs: Vec<(Value, Value)>) -> Result<()> {
        match self.stack.last_mut() {
            Some(Value::Dict(dict)) => {
                dict.extend(pairs);
                Ok(())
            }
            _ => Err(self.bad("SETITEM on a non-dict")),
        }
    }

    /// `('storage', torch.FloatStorage, key, location, numel)` → a storage reference.
    fn persistent(&self, id: Value) -> Result<Value> {
        let Value::Tuple(items) = id else { return Err(self.bad("a persistent id is not a tuple")) };
        match items.as_slice() {
            [Value::Str(tag), Value::Global(storage), Value::Str(key), ..] if tag == "storage" => {
                let kind = storage_kind(storage).ok_or_else(|| self.bad(format!("{storage} is not supported")))?;
                Ok(Value::Storage { kind, key: key.clone() })
            }
            _ => Err(self.bad("a persistent id is not a storage")),
        }
    }

    fn reduce(&mut self, callable: Value, args: Value) -> Result<Value> {
        let (Value::Global(name), Value::Tuple(args)) = (callable, args) else {
            return Err(self.bad("REDUCE needs a known callable and a tuple"));
        };
        match name.as_str() {
            "collections.OrderedDict" => Ok(Value::Dict(Vec::new())),
            "torch._utils._rebuild_tensor_v2" => self.rebuild_tensor(args),
            "torch._utils._rebuild_parameter" => match args.into_iter().next() {
                Some(tensor @ Value::Tensor(_)) => Ok(tensor),
                _ => Err(self.bad("_rebuild_parameter without a tensor")),
            },
            other => Err(self.bad(format!("{other} is not supported"))),
        }
    }

    /// `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks, …)`.
    fn rebuild_tensor(&mut self, args: Vec<Value>) -> Result<Value> {
        let mut args = args.into_iter();
        let (
            Some(Value::Storage { kind, key }),
            Some(Value::Int(offset)),
            Some(Value::Tuple(size)),
            Some(Value::Tuple(stride)),
        ) = (args.next(), args.next(), args.next(), args.next())
        else {
            return Err(self.bad("_rebuild_tensor_v2 has unexpected arguments"));
        };
        let ints = |values: Vec<Value>| -> Option<Vec<i64>> {
            values.into_iter().map(|v| if let Value::Int(i) = v { Some(i) } else { None }).collect()
        };
        let (size, stride) = (ints(size), ints(stride));
        let (Some(size), Some(stride)) = (size, stride) else {
            return Err(self.bad("a tensor's size is not integers"));
        };
        let entry = format!("{}data/{key}", self.root);
        let bytes = self.archive.read_entry(&entry)?;
        let numel = bytes.len() / kind.elt_size_in_bytes();
        let needed = offset + size.iter().zip(&stride).map(|(n, s)| (n - 1).max(0) * s).sum::<i64>() + 1;
        if size.iter().all(|n| *n > 0) && needed > numel as i64 {
            return Err(fail(self.path, format!("{entry} is too short for a tensor of size {size:?}")));
        }
        let storage = Tensor::from_data_size(&bytes, &[numel as i64], kind);
        let tensor = storage
            .f_as_strided(&size, &stride, Some(offset))
            .map_err(|e| Error::Torch { context: entry.clone(), source: e })?;
        Ok(Value::Tensor(tensor.contiguous()))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// A zip holding `archive/data.pkl` (stored, ten bytes) whose headers then claim `claimed` uncompressed bytes.
    fn archive_claiming(claimed: u32) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("slim-torch-claim-{claimed}-{}.pt", std::process::id()));
        let mut writer = zip::ZipWriter::new(File::create(&path).unwrap());
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        writer.start_file("archive/data.pkl", options).unwrap();
        writer.write_all(b"0123456789").unwrap();
        writer.finish().unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        for (signature, size_at) in [(b"PK\x03\x04", 22), (b"PK\x01\x02", 24)] {
            let start = bytes.windows(4).position(|window| window == signature).unwrap();
            bytes[start + size_at..start + size_at + 4].copy_from_slice(&claimed.to_le_bytes());
        }
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn an_entry_claiming_more_than_the_file_holds_is_an_error_before_any_allocation() {
        let path = archive_claiming(0x7fff_fff0);
        let error = read(&path).unwrap_err().to_string();
        std::fs::remove_file(&path).unwrap();
        assert!(error.contains("entry archive/data.pkl declares 2147483632 bytes from 10 compressed ones"), "{error}");
    }
}
