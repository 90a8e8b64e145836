//! Optimizer checkpoints: `save` and `load` through safetensors, and the helpers that
//! write and read an optimizer's state under PyTorch-like names:
//!
//! - `param_groups.0.<hyperparameter>`: `lr`, `betas`, `eps`, `momentum`, ... (f64, as
//!   PyTorch keeps them as Python floats) and flags (`amsgrad`, `nesterov`, ...; bool);
//! - `param_groups.0.params` (the parameter indices) and `param_groups.0.param_shape.<i>`,
//!   so a checkpoint made for other parameters is refused;
//! - `state.<i>.<buffer>`: per-parameter state in the parameters' own dtype and shape
//!   (`exp_avg`, `momentum_buffer`, ...), and `state.<i>.step` (i64).

use super::Optimizer;
use crate::element::{Element, Float};
use crate::error::{Error, ErrorKind, Result};
use crate::nn::{read_tensors, write_tensors, DynTensor};
use crate::Tensor;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// Writes an optimizer's state dict to a safetensors file at `path` (atomically, as
/// [`nn::save`](crate::nn::save)). With the model's file from `nn::save`, it is what a
/// training run needs to resume exactly where it stopped.
///
/// ```
/// use tapegrad::optim::{self, Adam, Optimizer};
/// use tapegrad::Tensor;
/// let path = std::env::temp_dir().join(format!("tapegrad-doc-optim-{}.safetensors", std::process::id()));
/// let w: Tensor<f64> = Tensor::ones(&[2]).requires_grad_(true);
/// let mut adam = Adam::new(vec![w.clone()], 0.1);
/// (&w * &w).sum().backward();
/// adam.step();
/// optim::save(&adam, &path)?;
/// let mut resumed = Adam::new(vec![w.clone()], 0.5);
/// optim::load(&mut resumed, &path)?;
/// assert_eq!(resumed.lr(), 0.1); // the learning rate comes back too
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), tapegrad::Error>(())
/// ```
pub fn save<T: Float, O: Optimizer<T> + ?Sized>(
    optimizer: &O,
    path: impl AsRef<Path>,
) -> Result<()> {
    let state = optimizer.state_dict()?;
    let named: Vec<(&str, DynTensor)> =
        state.iter().map(|(n, t)| (n.as_str(), t.clone())).collect();
    let metadata = HashMap::from([("format".to_string(), "tapegrad optimizer".to_string())]);
    write_tensors("optim::save", &named, Some(metadata), path.as_ref())
}

/// Reads a checkpoint written by [`save`] into `optimizer`: its hyperparameters (the
/// learning rate included) and per-parameter state. Everything is checked first: a file
/// made for another optimizer or for other parameters (count, shapes, dtype) is an error,
/// and the optimizer is left as it was.
///
/// ```
/// use tapegrad::optim::{self, Adam, Sgd};
/// use tapegrad::Tensor;
/// let path = std::env::temp_dir().join(format!("tapegrad-doc-optim-bad-{}.safetensors", std::process::id()));
/// optim::save(&Sgd::new(vec![Tensor::<f32>::ones(&[2]).requires_grad_(true)], 0.1), &path)?;
/// let mut other = Sgd::new(vec![Tensor::<f32>::ones(&[3]).requires_grad_(true)], 0.5);
/// assert!(optim::load(&mut other, &path).is_err()); // [2] in the file, [3] here
/// assert_eq!(other.lr(), 0.5);
/// let mut adam = Adam::new(vec![Tensor::<f32>::ones(&[2]).requires_grad_(true)], 0.5);
/// assert!(optim::load(&mut adam, &path).is_err()); // an Sgd checkpoint
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), tapegrad::Error>(())
/// ```
pub fn load<T: Float, O: Optimizer<T> + ?Sized>(
    optimizer: &mut O,
    path: impl AsRef<Path>,
) -> Result<()> {
    let path = path.as_ref();
    let (state, _) = read_tensors("optim::load", path)?;
    optimizer.load_state_dict(&state).map_err(|e| {
        Error::new(
            e.kind(),
            "optim::load",
            format!("{}: {}", path.display(), e.message()),
        )
    })
}

/// Collects an optimizer's state dict.
pub(crate) struct StateWriter<'a, T: Element> {
    params: &'a [Tensor<T>],
    out: Vec<(String, DynTensor)>,
}

impl<'a, T: Float> StateWriter<'a, T> {
    pub(crate) fn new(params: &'a [Tensor<T>]) -> Self {
        let indices: Vec<i64> = (0..params.len() as i64).collect();
        let mut out = vec![(
            "param_groups.0.params".to_string(),
            DynTensor::from(Tensor::from_vec(indices, &[params.len()])),
        )];
        for (i, p) in params.iter().enumerate() {
            let shape: Vec<i64> = p.shape().iter().map(|&d| d as i64).collect();
            let n = shape.len();
            out.push((
                format!("param_groups.0.param_shape.{i}"),
                DynTensor::from(Tensor::from_vec(shape, &[n])),
            ));
        }
        StateWriter { params, out }
    }

    /// A hyperparameter, as an f64 scalar.
    pub(crate) fn hyper(&mut self, name: &str, value: impl num_traits::ToPrimitive) {
        let v = value.to_f64().unwrap_or(f64::NAN);
        self.out.push((
            format!("param_groups.0.{name}"),
            DynTensor::from(Tensor::<f64>::scalar(v)),
        ));
    }

    /// A pair of hyperparameters (`betas`).
    pub(crate) fn pair(&mut self, name: &str, values: [T; 2]) {
        let v = values.map(|x| x.to_f64().unwrap_or(f64::NAN));
        self.out.push((
            format!("param_groups.0.{name}"),
            DynTensor::from(Tensor::from_vec(v.to_vec(), &[2])),
        ));
    }

    pub(crate) fn flag(&mut self, name: &str, value: bool) {
        self.out.push((
            format!("param_groups.0.{name}"),
            DynTensor::from(Tensor::<bool>::scalar(value)),
        ));
    }

    /// Parameter `i`'s buffer `name`, in the parameter's shape and dtype.
    pub(crate) fn state(&mut self, i: usize, name: &str, values: &[T]) {
        let t = Tensor::from_vec(values.to_vec(), self.params[i].shape());
        self.out
            .push((format!("state.{i}.{name}"), DynTensor::from_float(t)));
    }

    /// Parameter `i`'s step count.
    pub(crate) fn step(&mut self, i: usize, step: u64) {
        self.out.push((
            format!("state.{i}.step"),
            DynTensor::from(Tensor::<i64>::scalar(step as i64)),
        ));
    }

    pub(crate) fn finish(self) -> Vec<(String, DynTensor)> {
        self.out
    }
}

/// Reads an optimizer's state dict, checking each value as it is taken and, at the end,
/// that nothing was left over.
pub(crate) struct StateReader<'a, T: Element> {
    op: &'static str,
    entries: &'a [(String, DynTensor)],
    params: &'a [Tensor<T>],
    taken: RefCell<HashSet<&'a str>>,
}

impl<'a, T: Float> StateReader<'a, T> {
    /// A reader for `op` (the optimizer's name), after checking that the state is for
    /// these parameters and has the hyperparameters `required` (which tell one
    /// optimizer's checkpoint from another's).
    pub(crate) fn new(
        op: &'static str,
        entries: &'a [(String, DynTensor)],
        params: &'a [Tensor<T>],
        required: &[&str],
    ) -> Result<Self> {
        let r = StateReader {
            op,
            entries,
            params,
            taken: RefCell::new(HashSet::new()),
        };
        for name in required {
            if r.find(&format!("param_groups.0.{name}")).is_none() {
                return Err(r.error(format!(
                    "the state has no {name:?}: it was not made by {op}"
                )));
            }
        }
        let indices: Vec<i64> = r.tensor("param_groups.0.params")?;
        if indices.len() != params.len() {
            return Err(r.error(format!(
                "the state is for {} parameters, the optimizer has {}",
                indices.len(),
                params.len()
            )));
        }
        for (i, p) in params.iter().enumerate() {
            let shape: Vec<i64> = r.tensor(&format!("param_groups.0.param_shape.{i}"))?;
            if !shape
                .iter()
                .map(|&d| d as usize)
                .eq(p.shape().iter().copied())
            {
                return Err(r.error(format!(
                    "parameter {i} has shape {shape:?} in the state but {:?} in the optimizer",
                    p.shape()
                )));
            }
        }
        Ok(r)
    }

    pub(crate) fn error(&self, message: String) -> Error {
        Error::new(ErrorKind::Format, self.op, message)
    }

    fn find(&self, name: &str) -> Option<&'a DynTensor> {
        let (n, t) = self.entries.iter().find(|(n, _)| n == name)?;
        self.taken.borrow_mut().insert(n.as_str());
        Some(t)
    }

    /// The values of tensor `name`, which must exist with element type `E`.
    fn tensor<E: Element>(&self, name: &str) -> Result<Vec<E>> {
        let t = self
            .find(name)
            .ok_or_else(|| self.error(format!("the state has no {name:?}")))?;
        let values = t.to_tensor::<E>().ok_or_else(|| {
            self.error(format!(
                "{name:?} is {:?}, expected {:?}",
                t.dtype(),
                E::DTYPE
            ))
        })?;
        Ok(values.to_vec())
    }

    pub(crate) fn hyper<V: Float>(&self, name: &str) -> Result<V> {
        match self.tensor::<f64>(&format!("param_groups.0.{name}"))?[..] {
            [v] => Ok(V::from(v).unwrap_or_else(V::nan)),
            _ => Err(self.error(format!("{name:?} must be one number"))),
        }
    }

    pub(crate) fn pair(&self, name: &str) -> Result<[T; 2]> {
        match self.tensor::<f64>(&format!("param_groups.0.{name}"))?[..] {
            [a, b] => Ok([a, b].map(|v| T::from(v).unwrap_or_else(T::nan))),
            _ => Err(self.error(format!("{name:?} must be two numbers"))),
        }
    }

    pub(crate) fn flag(&self, name: &str) -> Result<bool> {
        match self.tensor::<bool>(&format!("param_groups.0.{name}"))?[..] {
            [v] => Ok(v),
            _ => Err(self.error(format!("{name:?} must be one flag"))),
        }
    }

    /// Parameter `i`'s buffer `name` if the state has it, checked against the parameter.
    pub(crate) fn state(&self, i: usize, name: &str) -> Result<Option<Vec<T>>> {
        let key = format!("state.{i}.{name}");
        let Some(t) = self.find(&key) else {
            return Ok(None);
        };
        if t.shape() != self.params[i].shape() {
            return Err(self.error(format!(
                "{key:?} has shape {:?}, but parameter {i} has {:?}",
                t.shape(),
                self.params[i].shape()
            )));
        }
        self.tensor(&key).map(Some)
    }

    /// Parameter `i`'s step count if the state has it.
    pub(crate) fn step(&self, i: usize) -> Result<Option<u64>> {
        let key = format!("state.{i}.step");
        if !self.entries.iter().any(|(n, _)| *n == key) {
            return Ok(None);
        }
        match self.tensor::<i64>(&key)?[..] {
            [s] if s >= 0 => Ok(Some(s as u64)),
            _ => Err(self.error(format!("{key:?} must be one count >= 0"))),
        }
    }

    /// An error naming any entry not read: a buffer this optimizer does not know (for
    /// example an `exp_avg` in a checkpoint loaded into `Sgd`) or a parameter index
    /// beyond its parameters.
    pub(crate) fn no_other_names(&self) -> Result<()> {
        let taken = self.taken.borrow();
        let mut unknown: Vec<&str> = self
            .entries
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| !taken.contains(n))
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        unknown.sort_unstable();
        Err(self.error(format!(
            "the state has entries {} does not use: {unknown:?}",
            self.op
        )))
    }
}
