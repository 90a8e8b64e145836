//! Optimizers: the lecture's `torch.optim` step.
//!
//! Each optimizer follows the algorithm box in PyTorch's documentation line by line (and
//! the order of operations of its single-tensor CPU code), so a trajectory matches
//! PyTorch's to float rounding; `tests/optim.rs` compares 20+ steps of every configuration
//! against numbers PyTorch printed.
//!
//! ```
//! use tapegrad::nn::{functional::mse_loss, Linear, Module, Sequential};
//! use tapegrad::optim::{Adam, Optimizer};
//! use tapegrad::Tensor;
//!
//! tapegrad::manual_seed(0);
//! let (x, y): (Tensor, Tensor) = (Tensor::randn(&[64, 4]), Tensor::randn(&[64, 2]));
//! let model: Sequential = Sequential::new().add(Linear::new(4, 2));
//! let mut optimizer = Adam::new(model.parameters(), 1e-2);
//! let first = mse_loss(&model.forward(&x), &y).item();
//! for _ in 0..100 {
//!     let loss = mse_loss(&model.forward(&x), &y);
//!     optimizer.zero_grad();
//!     loss.backward();
//!     optimizer.step();
//! }
//! assert!(mse_loss(&model.forward(&x), &y).item() < first);
//! ```

mod adam;
mod checkpoint;
pub mod lr_scheduler;
mod sgd;

pub use adam::{Adam, AdamW};
pub use checkpoint::{load, save};
pub use sgd::Sgd;

use crate::element::Float;
use crate::error::{Error, ErrorKind, Result};
use crate::nn::DynTensor;
use crate::Tensor;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// An optimizer's learning rate as a shared handle: the optimizer reads it at each step,
/// and a scheduler made from the optimizer holds a clone and writes it, so the two need no
/// borrow of each other (PyTorch's schedulers write `optimizer.param_groups[i]["lr"]`).
/// Stored as an `f64`, as PyTorch keeps it as a Python float.
///
/// ```
/// use tapegrad::optim::{Optimizer, Sgd};
/// use tapegrad::Tensor;
/// let sgd = Sgd::new(vec![Tensor::<f32>::ones(&[1]).requires_grad_(true)], 0.5);
/// let lr = sgd.shared_lr().unwrap();
/// assert_eq!(lr.get(), 0.5);
/// ```
#[derive(Debug, Clone)]
pub struct SharedLr(Arc<AtomicU64>);

impl SharedLr {
    pub(crate) fn new(lr: f64) -> Self {
        SharedLr(Arc::new(AtomicU64::new(lr.to_bits())))
    }

    /// The current learning rate.
    ///
    /// ```
    /// use tapegrad::optim::{Optimizer, Sgd};
    /// use tapegrad::Tensor;
    /// let mut sgd = Sgd::new(vec![Tensor::<f64>::ones(&[1]).requires_grad_(true)], 0.5);
    /// let lr = sgd.shared_lr().unwrap();
    /// sgd.set_lr(0.25);
    /// assert_eq!(lr.get(), 0.25); // the same cell
    /// ```
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }

    /// The rate as the optimizer's float type.
    pub(crate) fn get_as<T: Float>(&self) -> T {
        T::from(self.get()).unwrap_or_else(T::nan)
    }

    pub(crate) fn set(&self, lr: f64) {
        self.0.store(lr.to_bits(), Ordering::Relaxed);
    }
}

/// Updates parameters from their gradients, like a `torch.optim.Optimizer`. Object safe,
/// so a training loop can take `&mut dyn Optimizer`.
///
/// ```
/// use tapegrad::optim::{Adam, Optimizer, Sgd};
/// use tapegrad::Tensor;
/// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
/// let mut optimizers: Vec<Box<dyn Optimizer>> =
///     vec![Box::new(Sgd::new(vec![w.clone()], 0.1)), Box::new(Adam::new(vec![w.clone()], 0.1))];
/// (&w * &w).sum().backward();
/// optimizers[0].step(); // w -= 0.1 * 2w
/// assert_eq!(w.to_vec(), vec![0.8, 0.8]);
/// ```
pub trait Optimizer<T: Float = f32> {
    /// One update of every parameter that has a gradient; parameters without one (not
    /// reached by the last backward) are skipped, as in PyTorch.
    ///
    /// ```
    /// use tapegrad::optim::{Optimizer, Sgd};
    /// use tapegrad::Tensor;
    /// let (w, unused): (Tensor, Tensor) = (Tensor::ones(&[2]), Tensor::ones(&[1]));
    /// let (w, unused) = (w.requires_grad_(true), unused.requires_grad_(true));
    /// let mut sgd = Sgd::new(vec![w.clone(), unused.clone()], 0.5);
    /// (&w * 3.0).sum().backward();
    /// sgd.step();
    /// assert_eq!(w.to_vec(), vec![-0.5, -0.5]); // 1 - 0.5 * 3
    /// assert_eq!(unused.to_vec(), vec![1.0]); // no gradient: not moved
    /// ```
    fn step(&mut self);

    /// Drops every parameter's gradient, like PyTorch's `optimizer.zero_grad()` (which sets
    /// them to `None` by default), so a parameter the next backward does not reach is
    /// skipped by the next step instead of being moved by a stale gradient.
    ///
    /// ```
    /// use tapegrad::optim::{Adam, Optimizer};
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
    /// let mut adam = Adam::new(vec![w.clone()], 0.1);
    /// w.sum().backward();
    /// adam.zero_grad();
    /// assert!(w.grad().is_none());
    /// ```
    fn zero_grad(&mut self);

    /// The learning rate, so that a schedule can drive a `dyn Optimizer`.
    ///
    /// ```
    /// use tapegrad::optim::{Adam, Optimizer, Sgd};
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
    /// let mut all: Vec<Box<dyn Optimizer>> =
    ///     vec![Box::new(Sgd::new(vec![w.clone()], 0.1)), Box::new(Adam::new(vec![w], 0.01))];
    /// for o in &mut all {
    ///     let halved = o.lr() / 2.0;
    ///     o.set_lr(halved);
    /// }
    /// assert_eq!((all[0].lr(), all[1].lr()), (0.05, 0.005));
    /// ```
    fn lr(&self) -> T;

    /// Changes the learning rate for the following steps; an error (the old rate kept)
    /// for a negative, NaN or infinite rate.
    ///
    /// ```
    /// use tapegrad::optim::{Optimizer, Sgd};
    /// use tapegrad::Tensor;
    /// let mut sgd: Box<dyn Optimizer> = Box::new(Sgd::new(vec![Tensor::ones(&[1]).requires_grad_(true)], 0.1));
    /// assert!(sgd.try_set_lr(-1.0).is_err());
    /// assert_eq!(sgd.lr(), 0.1);
    /// ```
    fn try_set_lr(&mut self, lr: T) -> Result<()>;

    /// [`Optimizer::try_set_lr`], panicking with its error.
    ///
    /// ```
    /// use tapegrad::optim::{Optimizer, Sgd};
    /// use tapegrad::Tensor;
    /// let mut sgd: Box<dyn Optimizer> = Box::new(Sgd::new(vec![Tensor::ones(&[1]).requires_grad_(true)], 0.1));
    /// sgd.set_lr(0.2);
    /// assert_eq!(sgd.lr(), 0.2);
    /// ```
    #[track_caller]
    fn set_lr(&mut self, lr: T) {
        crate::error::or_panic(self.try_set_lr(lr))
    }

    /// The learning rate's shared handle, which schedulers
    /// ([`lr_scheduler`]) drive. `None` by default: an optimizer of your own that returns
    /// one can be scheduled too.
    ///
    /// ```
    /// use tapegrad::optim::{Adam, Optimizer};
    /// use tapegrad::Tensor;
    /// let adam = Adam::new(vec![Tensor::<f32>::ones(&[1]).requires_grad_(true)], 1e-3);
    /// assert!(adam.shared_lr().is_some());
    /// ```
    fn shared_lr(&self) -> Option<SharedLr> {
        None
    }

    /// Everything a checkpoint needs to resume (hyperparameters, per-parameter state such
    /// as Adam's moments), as named tensors with PyTorch-like names
    /// (`param_groups.0.lr`, `state.3.exp_avg`); [`save`] writes it. By default an error:
    /// the optimizer cannot be checkpointed.
    ///
    /// ```
    /// use tapegrad::optim::{Optimizer, Sgd};
    /// use tapegrad::Tensor;
    /// let sgd = Sgd::new(vec![Tensor::<f32>::ones(&[1]).requires_grad_(true)], 0.5);
    /// let names: Vec<String> = sgd.state_dict().unwrap().into_iter().map(|(n, _)| n).collect();
    /// assert!(names.contains(&"param_groups.0.lr".to_string()));
    /// ```
    fn state_dict(&self) -> Result<Vec<(String, DynTensor)>> {
        Err(Error::new(
            ErrorKind::Value,
            "state_dict",
            "this optimizer does not implement state_dict",
        ))
    }

    /// Restores what [`Optimizer::state_dict`] gave; an error (and the optimizer unchanged)
    /// for a state made for another optimizer or other parameters. By default an error.
    ///
    /// ```
    /// use tapegrad::optim::{Optimizer, Sgd};
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::ones(&[1]).requires_grad_(true);
    /// let saved = Sgd::new(vec![w.clone()], 0.5).state_dict().unwrap();
    /// let mut sgd = Sgd::new(vec![w], 0.1);
    /// sgd.load_state_dict(&saved).unwrap();
    /// assert_eq!(sgd.lr(), 0.5);
    /// ```
    fn load_state_dict(&mut self, state: &[(String, DynTensor)]) -> Result<()> {
        let _ = state;
        Err(Error::new(
            ErrorKind::Value,
            "load_state_dict",
            "this optimizer does not implement load_state_dict",
        ))
    }
}

impl<T: Float, O: Optimizer<T> + ?Sized> Optimizer<T> for Box<O> {
    fn step(&mut self) {
        (**self).step()
    }
    fn zero_grad(&mut self) {
        (**self).zero_grad()
    }
    fn lr(&self) -> T {
        (**self).lr()
    }
    fn try_set_lr(&mut self, lr: T) -> Result<()> {
        (**self).try_set_lr(lr)
    }
    fn shared_lr(&self) -> Option<SharedLr> {
        (**self).shared_lr()
    }
    fn state_dict(&self) -> Result<Vec<(String, DynTensor)>> {
        (**self).state_dict()
    }
    fn load_state_dict(&mut self, state: &[(String, DynTensor)]) -> Result<()> {
        (**self).load_state_dict(state)
    }
}

/// What PyTorch's optimizers refuse at construction: a negative learning rate, a tensor
/// that is not a leaf (its value is computed, so updating it is meaningless), and the same
/// tensor twice (it would be stepped twice).
fn check_params<T: Float>(op: &'static str, params: &[Tensor<T>], lr: T) -> Result<()> {
    check_lr(op, lr)?;
    for (i, p) in params.iter().enumerate() {
        if !p.is_leaf() {
            return Err(Error::autograd(
                op,
                format!(
                    "parameter {i} (shape {:?}) is not a leaf tensor: it was computed by {}; optimize the \
                     tensor it came from",
                    p.shape(),
                    p.grad_fn_name().unwrap_or_default()
                ),
            ));
        }
        if let Some(j) = params[..i]
            .iter()
            .position(|q| std::sync::Arc::ptr_eq(&p.0, &q.0))
        {
            return Err(Error::autograd(
                op,
                format!("parameters {j} and {i} are the same tensor (shape {:?}); it would be stepped twice", p.shape()),
            ));
        }
    }
    Ok(())
}

/// A learning rate must be finite and not negative (NaN and infinity would turn every
/// parameter into NaN at the first step).
fn check_lr<T: Float>(op: &'static str, lr: T) -> Result<()> {
    if lr.is_finite() && lr >= T::zero() {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::Value,
            op,
            format!(
                "invalid learning rate {} (must be finite and >= 0)",
                shortest(lr)
            ),
        ))
    }
}

/// `zero_grad` of every optimizer: each parameter's gradient set to `None`.
fn clear_grads<T: Float>(params: &[Tensor<T>]) {
    for p in params {
        p.clear_grad();
    }
}

/// Panics with a clear message when a hyperparameter is out of range (builder methods).
#[track_caller]
fn check_range<T: Float>(op: &str, name: &str, value: T, ok: bool, range: &str) {
    assert!(
        ok,
        "{op}: invalid {name} {} (must be {range})",
        shortest(value)
    );
}

/// A hyperparameter as the user wrote it: `-0.1`, not f32's `-0.10000000149011612`.
fn shortest<T: Float>(value: T) -> String {
    let v = value.to_f64().unwrap_or(f64::NAN);
    if f64::from(v as f32) == v {
        format!("{:?}", v as f32)
    } else {
        format!("{v:?}")
    }
}

/// Runs `update(values, grad)` on `param`'s elements in row-major order, in place, and bumps
/// the storage's version (a graph that saved the old values will refuse to backward).
fn update_in_place<T: Float>(
    param: &Tensor<T>,
    grad: &Tensor<T>,
    update: impl FnOnce(&mut [T], &[T]),
) {
    let p = param.array();
    let g = if grad.array().same_storage(p) {
        grad.array().private_copy()
    } else {
        grad.array().contiguous()
    };
    let n = p.numel();
    assert_eq!(
        g.numel(),
        n,
        "optimizer: gradient of shape {:?} for a parameter of shape {:?}",
        g.shape(),
        p.shape()
    );
    if p.is_contiguous() {
        {
            let (mut values, grads) = p.write_reading(&g);
            let start = p.layout().offset;
            let gs = g.layout().offset;
            update(&mut values[start..start + n], &grads[gs..gs + n]);
            p.bump_version(&values);
        }
    } else {
        // A strided parameter (a view): update a contiguous copy, then write it back.
        let copy = p.private_copy();
        {
            let (mut values, grads) = copy.write_reading(&g);
            let gs = g.layout().offset;
            update(&mut values[..n], &grads[gs..gs + n]);
        }
        crate::array::apply_inplace(p, &copy, |_, v| v);
    }
}
