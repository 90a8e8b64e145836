//! `save` and `load`: a module's parameters in a safetensors file, by `state_dict` name.

use super::Module;
use crate::array::Array;
use crate::element::{convert, DType, Element, Float};
use crate::error::{Error, ErrorKind, Result};
use crate::Tensor;
use safetensors::{tensor::TensorView, SafeTensors};
use std::borrow::Cow;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// One parameter, little-endian, as the safetensors writer wants it.
struct Bytes {
    dtype: safetensors::Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl safetensors::View for &Bytes {
    fn dtype(&self) -> safetensors::Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

/// The safetensors dtype that stores `T`.
pub(crate) fn file_dtype<T: Element>() -> safetensors::Dtype {
    match T::DTYPE {
        DType::F32 => safetensors::Dtype::F32,
        DType::F64 => safetensors::Dtype::F64,
        DType::I64 => safetensors::Dtype::I64,
        DType::Bool => safetensors::Dtype::BOOL,
    }
}

/// `values` as the little-endian bytes safetensors stores for `T` (a bool is one byte).
pub(crate) fn to_bytes<T: Element>(values: &[T]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * T::DTYPE.size());
    for &v in values {
        match T::DTYPE {
            DType::F32 => out.extend(convert::<T, f32>(v).to_le_bytes()),
            DType::F64 => out.extend(convert::<T, f64>(v).to_le_bytes()),
            DType::I64 => out.extend(convert::<T, i64>(v).to_le_bytes()),
            DType::Bool => out.push(u8::from(convert::<T, bool>(v))),
        }
    }
    out
}

/// The values of `T` in `data`, which holds `T`'s little-endian bytes (the caller checked
/// the file's dtype and the length).
pub(crate) fn from_bytes<T: Element>(data: &[u8]) -> Vec<T> {
    fn word<const N: usize>(b: &[u8]) -> [u8; N] {
        std::array::from_fn(|i| b[i])
    }
    match T::DTYPE {
        DType::F32 => data
            .chunks_exact(4)
            .map(|b| convert(f32::from_le_bytes(word(b))))
            .collect(),
        DType::F64 => data
            .chunks_exact(8)
            .map(|b| convert(f64::from_le_bytes(word(b))))
            .collect(),
        DType::I64 => data
            .chunks_exact(8)
            .map(|b| convert(i64::from_le_bytes(word(b))))
            .collect(),
        // safetensors' BOOL is one byte, 0 or 1; anything else is read as true.
        DType::Bool => data.iter().map(|&b| convert(b != 0)).collect(),
    }
}

fn io_error(op: &'static str, path: &Path, what: &str, e: std::io::Error) -> Error {
    Error::new(ErrorKind::Io, op, format!("{what} {}: {e}", path.display()))
}

/// Writes `module`'s parameters to a safetensors file at `path`, under their
/// [`named_parameters`](Module::named_parameters) names (the keys of a PyTorch
/// `state_dict`), so `safetensors.torch.load_file(path)` gives a dict `load_state_dict`
/// accepts.
///
/// The write is atomic: the bytes go to a temporary file in the same directory, which is
/// flushed to disk and then renamed over `path`. A crash leaves either the old file or the
/// new one, never half of one./// A temporary file left by a save whose process was killed is removed by the next save
/// to the same path (on Linux, where `/proc` tells that the process is gone).
///
/// ```
/// use tapegrad::nn::{self, Linear, Module};
/// let dir = std::env::temp_dir().join(format!("tapegrad-doc-save-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("model.safetensors");
/// let trained: Linear = Linear::new(4, 2);
/// nn::save(&trained, &path)?;
/// let fresh: Linear = Linear::new(4, 2);
/// nn::load(&fresh, &path)?;
/// assert_eq!(fresh.weight().to_vec(), trained.weight().to_vec());
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn save<T: Float, M: Module<T> + ?Sized>(module: &M, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let named = module.state_dict();
    for (i, (name, _)) in named.iter().enumerate() {
        if named[..i].iter().any(|(other, _)| other == name) {
            return Err(Error::new(
                ErrorKind::Format,
                "save",
                format!("two tensors of the module are named {name:?}; a file needs unique names"),
            ));
        }
    }
    let tensors: Vec<(&str, Bytes)> = named.iter().map(|(n, t)| (n.as_str(), t.bytes())).collect();
    let bytes = safetensors::serialize(tensors.iter().map(|(n, b)| (*n, b)), None)
        .map_err(|e| Error::new(ErrorKind::Format, "save", format!("cannot serialize: {e}")))?;
    write_atomically(path, &bytes)
}

/// A new file beside the target, created exclusively (`create_new`: it fails rather than
/// open a file or follow a symlink already at that name) under a name no other save uses:
/// the process id, a per-process counter and a random number. Concurrent saves, from
/// threads or processes, each write their own file, and the last rename wins. (std's
/// `create_new` is all the `tempfile` crate would do here, without its dependencies.)
fn create_temporary(dir: &Path, file_name: &str) -> Result<(PathBuf, fs::File)> {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    remove_stale_temporaries(dir, file_name);
    let mut last_error = None;
    for _ in 0..16 {
        let unique = format!(
            "{}-{}-{:016x}",
            std::process::id(),
            COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            // std's hasher keys are random per process (and differ per call).
            std::hash::BuildHasher::hash_one(&std::collections::hash_map::RandomState::new(), 0u8)
        );
        let tmp = dir.join(format!(".{file_name}.{unique}.tmp"));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last_error = Some(e),
            Err(e) => return Err(io_error("save", &tmp, "cannot create", e)),
        }
    }
    Err(io_error(
        "save",
        dir,
        "cannot create a temporary file in",
        last_error.unwrap_or_else(|| std::io::Error::other("no free name")),
    ))
}

/// Removes the temporary files an earlier save of `file_name` left in `dir` when its
/// process was killed mid-write: `.{file_name}.{pid}-...tmp` whose process no longer runs.
/// Only where `/proc` tells which processes run (Linux); a file of a live process (a
/// concurrent save) is never touched. Best effort: a file that cannot be removed stays.
fn remove_stale_temporaries(dir: &Path, file_name: &str) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{file_name}.");
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|n| n.strip_suffix(".tmp"))
        else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Reads the file at `path`, which must be a regular file (a directory, a FIFO or a
/// device such as `/dev/zero` is refused before anything is read).
fn read_regular_file(op: &'static str, path: &Path) -> Result<Vec<u8>> {
    let metadata = fs::metadata(path).map_err(|e| io_error(op, path, "cannot read", e))?;
    if !metadata.is_file() {
        return Err(Error::new(
            ErrorKind::Io,
            op,
            format!("{} is not a regular file", path.display()),
        ));
    }
    fs::read(path).map_err(|e| io_error(op, path, "cannot read", e))
}

/// Writes `bytes` to a temporary sibling of `path`, syncs it, and renames it into place.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = path.file_name().ok_or_else(|| {
        Error::new(
            ErrorKind::Io,
            "save",
            format!("{} is not a file path", path.display()),
        )
    })?;
    // A read-only file is not replaced behind its owner's back (a rename would, as it
    // needs only the directory's permission), and a directory is not a file.
    if let Ok(existing) = fs::symlink_metadata(path)
        && (existing.is_dir() || existing.permissions().readonly())
    {
        return Err(Error::new(
            ErrorKind::Io,
            "save",
            format!(
                "{} is {}; not replacing it",
                path.display(),
                if existing.is_dir() {
                    "a directory"
                } else {
                    "read-only"
                }
            ),
        ));
    }
    let (tmp, mut file) = create_temporary(&dir, &file_name.to_string_lossy())?;
    let written = (|| {
        file.write_all(bytes)
            .map_err(|e| io_error("save", &tmp, "cannot write", e))?;
        file.sync_all()
            .map_err(|e| io_error("save", &tmp, "cannot sync", e))?;
        fs::rename(&tmp, path)
            .map_err(|e| io_error("save", path, "cannot rename the temporary file onto", e))
    })();
    if written.is_err() {
        // Best effort: the error that matters is the one being returned.
        let _ = fs::remove_file(&tmp);
    }
    written?;
    // The rename is durable once the directory entry is on disk (a no-op where a
    // directory cannot be opened for syncing).
    if let Ok(d) = fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Reads the parameters of `module` from the safetensors file at `path` (written by
/// [`save`], or by PyTorch's `safetensors.torch.save_file(model.state_dict(), path)`).
///
/// Everything is checked before anything changes: the file must parse, hold exactly the
/// module's parameter names (none missing, none extra, like PyTorch's strict
/// `load_state_dict`), with the same shapes and the module's dtype. On any error the
/// module is left as it was.
///
/// ```
/// use tapegrad::nn::{self, Linear};
/// let path = std::env::temp_dir().join(format!("tapegrad-doc-load-bad-{}.safetensors", std::process::id()));
/// nn::save(&Linear::<f32>::new(4, 2), &path)?;
/// let wider: Linear = Linear::new(5, 2);
/// let before = wider.weight().to_vec();
/// assert!(nn::load(&wider, &path).is_err()); // [2, 4] in the file, [2, 5] in the module
/// assert_eq!(wider.weight().to_vec(), before); // unchanged
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), tapegrad::Error>(())
/// ```
pub fn load<T: Float, M: Module<T> + ?Sized>(module: &M, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let bytes = read_regular_file("load", path)?;
    let file = SafeTensors::deserialize(&bytes).map_err(|e| {
        Error::new(
            ErrorKind::Format,
            "load",
            format!("{} is not a valid safetensors file: {e}", path.display()),
        )
    })?;
    let named = module.state_dict();
    let mut writes = Vec::with_capacity(named.len());
    for (name, tensor) in &named {
        let view = file.tensor(name).map_err(|_| {
            format_error(
                path,
                format!(
                    "has no tensor {name:?} (the module's {:?} of shape {:?})",
                    tensor.dtype(),
                    tensor.shape()
                ),
            )
        })?;
        writes.push(match tensor {
            DynTensor::F32(t) => staged(path, name, t, &view)?,
            DynTensor::F64(t) => staged(path, name, t, &view)?,
            DynTensor::I64(t) => staged(path, name, t, &view)?,
            DynTensor::Bool(t) => staged(path, name, t, &view)?,
        });
    }
    let mut extra: Vec<&str> = file
        .names()
        .into_iter()
        .filter(|n| !named.iter().any(|(name, _)| name == *n))
        .collect();
    if !extra.is_empty() {
        extra.sort_unstable();
        return Err(format_error(
            path,
            format!("has tensors the module has no parameters or buffers for: {extra:?}"),
        ));
    }
    // Every check passed: now write.
    for write in writes {
        write();
    }
    Ok(())
}

/// Reads and checks one tensor's values now, and returns the write that stores them
/// (run only once every tensor has been checked).
fn staged<T: Element>(
    path: &Path,
    name: &str,
    tensor: &Tensor<T>,
    view: &TensorView<'_>,
) -> Result<Box<dyn FnOnce()>> {
    let values = read_values(path, name, tensor, view)?;
    let tensor = tensor.clone();
    Ok(Box::new(move || {
        crate::tensor::inplace::write_values(&tensor, values);
    }))
}

fn format_error(path: &Path, message: String) -> Error {
    Error::new(
        ErrorKind::Format,
        "load",
        format!("{} {message}", path.display()),
    )
}

/// One tensor's values, after checking its dtype and shape against the parameter.
fn read_values<T: Element>(
    path: &Path,
    name: &str,
    param: &Tensor<T>,
    view: &TensorView<'_>,
) -> Result<Vec<T>> {
    let dtype = file_dtype::<T>();
    if view.dtype() != dtype {
        return Err(format_error(
            path,
            format!(
                "stores {name:?} as {:?}, but the module's {name:?} is {dtype:?}",
                view.dtype()
            ),
        ));
    }
    if view.shape() != param.shape() {
        return Err(Error::shape(
            "load",
            format!(
                "{}: {name:?} has shape {:?} in the file but {:?} in the module",
                path.display(),
                view.shape(),
                param.shape()
            ),
        ));
    }
    if param.array().layout().has_overlap() {
        return Err(Error::shape(
            "load",
            format!(
                "parameter {name:?} is a broadcast view (shape {:?}) and cannot be written",
                param.shape()
            ),
        ));
    }
    Ok(from_bytes(view.data()))
}

/// A tensor of any element type, as a safetensors file holds them side by side (weights in
/// f32, a step counter in i64, a mask in bool). `From` converts each `Tensor<T>` into it.
///
/// ```
/// use tapegrad::nn::DynTensor;
/// use tapegrad::{DType, Tensor};
/// let any = DynTensor::from(Tensor::<i64>::from_vec(vec![1, 2], &[2]));
/// assert_eq!(any.dtype(), DType::I64);
/// assert_eq!(any.to_tensor::<i64>().unwrap().to_vec(), vec![1, 2]);
/// assert!(any.to_tensor::<f32>().is_none());
/// ```
#[derive(Clone, Debug)]
pub enum DynTensor {
    /// A `Tensor<f32>`.
    F32(Tensor<f32>),
    /// A `Tensor<f64>`.
    F64(Tensor<f64>),
    /// A `Tensor<i64>`.
    I64(Tensor<i64>),
    /// A `Tensor<bool>`.
    Bool(Tensor<bool>),
}

macro_rules! dyn_tensor_from {
    ($($t:ty => $variant:ident),*) => {$(
        impl From<Tensor<$t>> for DynTensor {
            fn from(t: Tensor<$t>) -> Self {
                DynTensor::$variant(t)
            }
        }
    )*};
}
dyn_tensor_from!(f32 => F32, f64 => F64, i64 => I64, bool => Bool);

impl DynTensor {
    /// A float tensor of either precision, as its variant.
    ///
    /// ```
    /// use tapegrad::nn::DynTensor;
    /// use tapegrad::{DType, Tensor};
    /// let t: Tensor<f64> = Tensor::zeros(&[2]);
    /// assert_eq!(DynTensor::from_float(t).dtype(), DType::F64);
    /// ```
    pub fn from_float<T: Float>(tensor: Tensor<T>) -> DynTensor {
        let any: &dyn std::any::Any = &tensor;
        if let Some(t) = any.downcast_ref::<Tensor<f32>>() {
            DynTensor::F32(t.clone())
        } else if let Some(t) = any.downcast_ref::<Tensor<f64>>() {
            DynTensor::F64(t.clone())
        } else {
            unreachable!("Float is only f32 and f64")
        }
    }

    /// The element type.
    ///
    /// ```
    /// use tapegrad::nn::DynTensor;
    /// use tapegrad::{DType, Tensor};
    /// assert_eq!(DynTensor::from(Tensor::<f64>::zeros(&[1])).dtype(), DType::F64);
    /// ```
    pub fn dtype(&self) -> DType {
        match self {
            DynTensor::F32(_) => DType::F32,
            DynTensor::F64(_) => DType::F64,
            DynTensor::I64(_) => DType::I64,
            DynTensor::Bool(_) => DType::Bool,
        }
    }

    /// The shape.
    ///
    /// ```
    /// use tapegrad::nn::DynTensor;
    /// use tapegrad::Tensor;
    /// assert_eq!(DynTensor::from(Tensor::<bool>::zeros(&[2, 3])).shape(), &[2, 3]);
    /// ```
    pub fn shape(&self) -> &[usize] {
        match self {
            DynTensor::F32(t) => t.shape(),
            DynTensor::F64(t) => t.shape(),
            DynTensor::I64(t) => t.shape(),
            DynTensor::Bool(t) => t.shape(),
        }
    }

    /// The tensor, if it holds `T` (no conversion: see [`Tensor::to_dtype`] for that).
    ///
    /// ```
    /// use tapegrad::nn::DynTensor;
    /// use tapegrad::Tensor;
    /// let any = DynTensor::from(Tensor::<f32>::ones(&[2]));
    /// assert_eq!(any.to_tensor::<f32>().unwrap().to_vec(), vec![1.0, 1.0]);
    /// assert!(any.to_tensor::<f64>().is_none());
    /// ```
    pub fn to_tensor<T: Element>(&self) -> Option<Tensor<T>> {
        let any: &dyn std::any::Any = match self {
            DynTensor::F32(t) => t,
            DynTensor::F64(t) => t,
            DynTensor::I64(t) => t,
            DynTensor::Bool(t) => t,
        };
        any.downcast_ref::<Tensor<T>>().cloned()
    }

    fn bytes(&self) -> Bytes {
        let (dtype, data) = match self {
            DynTensor::F32(t) => (file_dtype::<f32>(), to_bytes(&t.to_vec())),
            DynTensor::F64(t) => (file_dtype::<f64>(), to_bytes(&t.to_vec())),
            DynTensor::I64(t) => (file_dtype::<i64>(), to_bytes(&t.to_vec())),
            DynTensor::Bool(t) => (file_dtype::<bool>(), to_bytes(&t.to_vec())),
        };
        Bytes {
            dtype,
            shape: self.shape().to_vec(),
            data,
        }
    }
}

/// Writes named tensors of any element type to a safetensors file, like
/// `safetensors.torch.save_file(dict, path)`: f32, f64, i64 (`I64`) and bool (`BOOL`).
/// Atomic, as [`save`]. Names must be unique.
///
/// ```
/// use tapegrad::nn::{self, DynTensor};
/// use tapegrad::Tensor;
/// let path = std::env::temp_dir().join(format!("tapegrad-doc-tensors-{}.safetensors", std::process::id()));
/// let steps = Tensor::<i64>::scalar(7);
/// let mask = Tensor::<bool>::from_vec(vec![true, false], &[2]);
/// nn::save_tensors(&[("steps", steps.into()), ("mask", mask.into())], &path)?;
/// let loaded = nn::load_tensors(&path)?;
/// assert_eq!(loaded[0].0, "mask"); // sorted by name, as safetensors stores them
/// assert_eq!(loaded[1].1.to_tensor::<i64>().unwrap().item(), 7);
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), tapegrad::Error>(())
/// ```
pub fn save_tensors(tensors: &[(&str, DynTensor)], path: impl AsRef<Path>) -> Result<()> {
    write_tensors("save_tensors", tensors, None, path.as_ref())
}

/// Writes `tensors` (unique names) and optional string `metadata` to a safetensors file,
/// atomically; errors name `op`.
pub(crate) fn write_tensors(
    op: &'static str,
    tensors: &[(&str, DynTensor)],
    metadata: Option<std::collections::HashMap<String, String>>,
    path: &Path,
) -> Result<()> {
    for (i, (name, _)) in tensors.iter().enumerate() {
        if tensors[..i].iter().any(|(other, _)| other == name) {
            return Err(Error::new(
                ErrorKind::Format,
                op,
                format!("two tensors are named {name:?}; a file needs unique names"),
            ));
        }
    }
    let bytes: Vec<(&str, Bytes)> = tensors.iter().map(|(n, t)| (*n, t.bytes())).collect();
    let file = safetensors::serialize(bytes.iter().map(|(n, b)| (*n, b)), metadata)
        .map_err(|e| Error::new(ErrorKind::Format, op, format!("cannot serialize: {e}")))?;
    write_atomically(path, &file)
}

/// Reads every tensor of a safetensors file, sorted by name, as the element type it was
/// stored in (F32, F64, I64 or BOOL; any other dtype is an error naming it), like
/// `safetensors.torch.load_file(path)`.
///
/// ```
/// use tapegrad::{nn, ErrorKind};
/// let path = std::env::temp_dir().join(format!("tapegrad-doc-load-{}.safetensors", std::process::id()));
/// std::fs::write(&path, b"not safetensors")?;
/// assert_eq!(nn::load_tensors(&path).unwrap_err().kind(), ErrorKind::Format);
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn load_tensors(path: impl AsRef<Path>) -> Result<Vec<(String, DynTensor)>> {
    Ok(read_tensors("load_tensors", path.as_ref())?.0)
}

/// A safetensors file's string metadata (its header's `__metadata__`).
pub(crate) type Metadata = std::collections::HashMap<String, String>;

/// Every tensor of a safetensors file, sorted by name, and its string metadata (empty if
/// none); errors name `op`.
pub(crate) fn read_tensors(
    op: &'static str,
    path: &Path,
) -> Result<(Vec<(String, DynTensor)>, Metadata)> {
    let bytes = read_regular_file(op, path)?;
    let invalid = |e: safetensors::SafeTensorError| {
        Error::new(
            ErrorKind::Format,
            op,
            format!("{} is not a valid safetensors file: {e}", path.display()),
        )
    };
    let file = SafeTensors::deserialize(&bytes).map_err(invalid)?;
    let (_, header) = SafeTensors::read_metadata(&bytes).map_err(invalid)?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let mut out = Vec::new();
    let mut names = file.names();
    names.sort_unstable();
    for name in names {
        let view = file
            .tensor(name)
            .map_err(|e| Error::new(ErrorKind::Format, op, format!("{name:?}: {e}")))?;
        fn make<T: Element>(view: &TensorView<'_>) -> Tensor<T> {
            Tensor::from_array(Array::from_vec(from_bytes(view.data()), view.shape()))
        }
        let tensor = match view.dtype() {
            safetensors::Dtype::F32 => DynTensor::F32(make(&view)),
            safetensors::Dtype::F64 => DynTensor::F64(make(&view)),
            safetensors::Dtype::I64 => DynTensor::I64(make(&view)),
            safetensors::Dtype::BOOL => DynTensor::Bool(make(&view)),
            other => {
                return Err(Error::new(
                    ErrorKind::Format,
                    op,
                    format!(
                        "{} stores {name:?} as {other:?}; tapegrad reads F32, F64, I64 and BOOL",
                        path.display()
                    ),
                ))
            }
        };
        out.push((name.to_string(), tensor));
    }
    Ok((out, metadata))
}
