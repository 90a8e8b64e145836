//! Autograd: the dynamic tape that records ops as they run, and `backward`.
//!
//! - `tape.rs`: recording nodes, and running one node's chain rule (each op's rule lives
//!   with the op, in the crate's `ops` module), over arrays or, with `create_graph`, over
//!   recording tensors so that gradients can be differentiated again;
//! - `walk.rs`: the backward walk from a root to the leaves, and accumulating `.grad`;
//! - `grad.rs`: [`grad`] (`torch.autograd.grad`), [`BackwardOptions`];
//! - [`functional`]: `vjp`, `jvp`, `hvp`, `vhp`, `jacobian`, `hessian`;
//! - `hooks.rs`: [`Tensor::register_hook`] and [`HookHandle`];
//! - `anomaly.rs`: [`detect_anomaly`] and [`set_detect_anomaly`];
//! - `grad_mode.rs`: [`no_grad`] and [`NoGradGuard`];
//! - `gradcheck.rs`: [`gradcheck`] and [`gradgradcheck`], finite differences in f64;
//! - `dot.rs`: the recorded graph as a Graphviz picture.

pub(crate) mod anomaly;
mod dot;
pub mod functional;
mod grad;
mod grad_mode;
mod gradcheck;
pub(crate) mod hooks;
pub(crate) mod node_ref;
mod seq;
pub(crate) mod tape;
mod walk;

pub use anomaly::{detect_anomaly, is_anomaly_enabled, set_detect_anomaly};
pub use grad::{grad, grad_with_options, BackwardOptions, GradOptions};
pub use grad_mode::{is_grad_enabled, no_grad, no_grad_guard, NoGradGuard};
pub use gradcheck::{
    gradcheck, gradgradcheck, gradgradcheck_report, GradcheckOptions, GradcheckReport,
};
pub use hooks::HookHandle;

use crate::array::{self, Array};
use crate::element::{Element, Float};
use crate::error::{or_panic, Error, Result};
use crate::tensor::Tensor;
use std::sync::atomic::Ordering;

impl<T: Float> Tensor<T> {
    /// Turns gradient tracking on or off for this leaf, in place, and returns (a clone of)
    /// the same handle, like PyTorch's `requires_grad_()`.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::randn(&[4, 2]).requires_grad_(true);
    /// assert!(w.requires_grad() && w.is_leaf());
    /// ```
    ///
    /// Panics when asked to turn tracking off on a non-leaf (use [`Tensor::detach`]).
    #[track_caller]
    pub fn requires_grad_(&self, on: bool) -> Tensor<T> {
        or_panic(self.try_requires_grad_(on))
    }

    /// [`Tensor::requires_grad_`] returning an error for a non-leaf asked to stop.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
    /// assert!((&w * 2.0).try_requires_grad_(false).is_err());
    /// ```
    pub fn try_requires_grad_(&self, on: bool) -> Result<Tensor<T>> {
        if self.0.grad_fn.is_some() && !on {
            return Err(Error::autograd(
                "requires_grad_",
                "you can only change requires_grad of leaf tensors; use detach() to get a tensor \
                 that does not require grad",
            ));
        }
        self.0.requires_grad.store(on, Ordering::Release);
        Ok(self.clone())
    }

    /// Computes the gradient of this scalar with respect to every leaf that requires grad,
    /// adding it into their [`Tensor::grad`], like PyTorch's `loss.backward()`. The values
    /// the graph saved are freed afterwards (see [`Tensor::backward_with`]).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::from_vec(vec![3.0], &[1]).requires_grad_(true);
    /// let loss = (&w * &w).sum(); // w²
    /// loss.backward();
    /// assert_eq!(w.grad().unwrap().to_vec(), vec![6.0]); // 2w
    /// ```
    #[track_caller]
    pub fn backward(&self) {
        or_panic(self.try_backward())
    }

    /// [`Tensor::backward`] returning an error instead of panicking.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::ones(&[2]).requires_grad_(true);
    /// let e = (&x * 2.0).try_backward().unwrap_err(); // not a scalar
    /// assert_eq!(e.op(), "backward");
    /// ```
    pub fn try_backward(&self) -> Result<()> {
        self.try_backward_with(false)
    }

    /// `backward` with PyTorch's `retain_graph`: keep the saved values so that the graph
    /// can be walked again.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::from_vec(vec![3.0], &[1]).requires_grad_(true);
    /// let loss = (&w * &w).sum();
    /// loss.backward_with(true);
    /// loss.backward(); // a second walk: the gradients add up
    /// assert_eq!(w.grad().unwrap().to_vec(), vec![12.0]);
    /// ```
    #[track_caller]
    pub fn backward_with(&self, retain_graph: bool) {
        or_panic(self.try_backward_with(retain_graph))
    }

    /// [`Tensor::backward_with`] returning an error instead of panicking.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::from_vec(vec![3.0], &[1]).requires_grad_(true);
    /// let loss = (&w * &w).sum();
    /// loss.try_backward_with(false).unwrap();
    /// assert!(loss.try_backward_with(false).is_err()); // the saved values are gone
    /// ```
    pub fn try_backward_with(&self, retain_graph: bool) -> Result<()> {
        if self.numel() != 1 {
            return Err(Error::autograd(
                "backward",
                format!(
                    "grad can be implicitly created only for scalar outputs, got shape {:?}",
                    self.shape()
                ),
            ));
        }
        let seed = Array::full(self.shape(), T::one());
        walk::backward(self, seed, retain_graph, false)
    }

    /// Backpropagates an explicit gradient of this tensor (of the same shape), like
    /// PyTorch's `y.backward(gradient)`.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::from_vec(vec![1.0, 2.0], &[2]).requires_grad_(true);
    /// let y = &x * 3.0;
    /// y.try_backward_from(&Tensor::from_vec(vec![1.0, 10.0], &[2]), false).unwrap();
    /// assert_eq!(x.grad().unwrap().to_vec(), vec![3.0, 30.0]);
    /// ```
    pub fn try_backward_from(&self, grad: &Tensor<T>, retain_graph: bool) -> Result<()> {
        if grad.shape() != self.shape() {
            return Err(Error::shape(
                "backward",
                format!(
                    "gradient of shape {:?} does not match the tensor's shape {:?}",
                    grad.shape(),
                    self.shape()
                ),
            ));
        }
        walk::backward(self, grad.array().clone(), retain_graph, false)
    }

    /// The accumulated gradient, if backward has reached this tensor.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
    /// assert!(w.grad().is_none());
    /// w.sum().backward();
    /// assert_eq!(w.grad().unwrap().to_vec(), vec![1.0, 1.0]);
    /// ```
    pub fn grad(&self) -> Option<Tensor<T>> {
        tape::lock(&self.0.grad).clone()
    }

    /// Sets every element of the gradient to zero in place, like `w.grad.zero_()` (the
    /// buffer is kept, so the next backward accumulates into it without allocating).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
    /// w.sum().backward();
    /// w.zero_grad();
    /// assert_eq!(w.grad().unwrap().to_vec(), vec![0.0, 0.0]);
    /// ```
    pub fn zero_grad(&self) {
        if let Some(g) = tape::lock(&self.0.grad).as_ref() {
            g.array().fill_(T::zero());
        }
    }

    /// Drops the gradient buffer, like `w.grad = None`.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
    /// w.sum().backward();
    /// w.clear_grad();
    /// assert!(w.grad().is_none());
    /// ```
    pub fn clear_grad(&self) {
        *tape::lock(&self.0.grad) = None;
    }

    /// Keeps this non-leaf tensor's gradient in [`Tensor::grad`] during backward, like
    /// PyTorch's `retain_grad()`. On a leaf it does nothing (leaves keep theirs anyway).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
    /// let h = &w * 2.0;
    /// h.retain_grad();
    /// (&h * &h).sum().backward();
    /// assert_eq!(h.grad().unwrap().to_vec(), vec![4.0, 4.0]); // 2h
    /// ```
    pub fn retain_grad(&self) {
        if let Some(node) = &self.0.grad_fn {
            node.retain_grad_of(self);
        }
    }

    /// A new leaf sharing this tensor's data, cut from the graph (`requires_grad` false).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
    /// let d = (&w * 2.0).detach();
    /// assert!(d.is_leaf() && !d.requires_grad());
    /// ```
    pub fn detach(&self) -> Tensor<T> {
        Tensor::from_array(self.array().clone())
    }

    /// The recorded graph behind this tensor as Graphviz DOT text: ops, shapes, and the
    /// leaves that require grad. Render it with `dot -Tpng`.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
    /// let dot = (&w * 2.0).sum().to_dot();
    /// assert!(dot.starts_with("digraph") && dot.contains("SumBackward"));
    /// ```
    pub fn to_dot(&self) -> String {
        dot::to_dot(self)
    }

    pub(crate) fn check_inplace(&self, op: &'static str, other: Option<&Tensor<T>>) -> Result<()> {
        if is_grad_enabled() {
            if self.is_leaf() && self.requires_grad() {
                return Err(Error::autograd(
                    op,
                    "a leaf tensor that requires grad cannot be modified in place outside no_grad \
                     (wrap the update in tapegrad::no_grad(|| ...))",
                ));
            }
            if self.requires_grad() || other.is_some_and(Tensor::requires_grad) {
                return Err(Error::autograd(
                    op,
                    "in-place ops are not recorded on the tape: use the out-of-place op, or run it under no_grad",
                ));
            }
        }
        if self.array().layout().has_overlap() {
            return Err(Error::shape(
                op,
                format!(
                    "cannot write in place to a broadcast view of shape {:?} (several elements share one memory \
                     location); call contiguous() first",
                    self.shape()
                ),
            ));
        }
        Ok(())
    }

    pub(crate) fn inplace_binary(
        &self,
        op: &'static str,
        other: &Tensor<T>,
        f: impl Fn(T, T) -> T,
    ) -> Result<()> {
        self.check_inplace(op, Some(other))?;
        crate::shape::check_broadcast_to(op, other.shape(), self.shape())?;
        array::apply_inplace(self.array(), other.array(), f);
        Ok(())
    }
}

impl<T: Element> Tensor<T> {
    /// True if gradients flow to or through this tensor.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
    /// assert!((&w * 2.0).requires_grad() && !Tensor::<i64>::zeros(&[1]).requires_grad());
    /// ```
    pub fn requires_grad(&self) -> bool {
        self.0.requires_grad.load(Ordering::Acquire)
    }

    /// True for tensors not made by a recorded op (inputs and parameters).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
    /// assert!(w.is_leaf() && !(&w * 2.0).is_leaf());
    /// ```
    pub fn is_leaf(&self) -> bool {
        self.0.grad_fn.is_none()
    }

    /// The name of the op that made this tensor, as PyTorch prints it (`"MulBackward"`), or
    /// `None` for a leaf.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
    /// assert_eq!((&w * &w).grad_fn_name().as_deref(), Some("MulBackward"));
    /// assert_eq!(w.grad_fn_name(), None);
    /// ```
    pub fn grad_fn_name(&self) -> Option<String> {
        self.0.grad_fn.as_ref().map(|n| backward_name(n.op.name()))
    }
}

/// PyTorch's grad_fn names: `mul` -> `MulBackward`, `sum_dim` -> `SumDimBackward`.
pub(crate) fn backward_name(op: &str) -> String {
    let mut name: String = op
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    name.push_str("Backward");
    name
}
