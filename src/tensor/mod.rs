//! Layer 1: the `Tensor` handle, its creation, the math API, operators and `Display`.
//!
//! - `create.rs`: `from_vec`, `zeros`, `randn`, ... ;
//! - `ops.rs`: the math methods (from the shared definitions in `ops/methods.rs`), dtype
//!   conversions, `argmax_dim`, `view`;
//! - `operators.rs`: `+ - * /` and unary `-` for owned, borrowed and scalar operands;
//! - `inplace.rs`: `sub_`, `add_`, ... on the shared storage;
//! - `display.rs`: printing like PyTorch.

mod create;
mod display;
pub(crate) mod handle;
pub(crate) mod inplace;
mod operators;
mod ops;
mod select;

use crate::array::Array;
use crate::autograd::hooks::Hooks;
use crate::autograd::node_ref::NodeRef;
use crate::autograd::tape;
use crate::device::Device;
use crate::element::{DType, Element, Float};
use crate::error::{or_panic, Error, Result};
use crate::ops::{Op, Value, View};
use std::mem::ManuallyDrop;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

/// An n-dimensional array of `T` (f32 by default) that records the ops applied to it, so
/// `backward()` can compute gradients, like a PyTorch tensor. `T` is any [`Element`]:
/// `f32`/`f64` for math and autograd, `i64` for indices, `bool` for masks.
///
/// A `Tensor` is a cheap handle: `clone()` shares the data and the autograd state (like
/// assigning a tensor to a second Python name). Views (`t()`, `transpose`, `permute`,
/// `reshape` of a contiguous tensor, `broadcast_to`) share the data too.
///
/// ```
/// use tapegrad::Tensor;
/// let x: Tensor = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
/// let y = &x * 2.0 + 1.0;
/// assert_eq!(y.to_vec(), vec![3.0, 5.0, 7.0, 9.0]);
/// assert_eq!(x.t().to_vec(), vec![1.0, 3.0, 2.0, 4.0]);
/// ```
pub struct Tensor<T: Element = f32>(pub(crate) ManuallyDrop<Arc<TensorImpl<T>>>);

pub(crate) struct TensorImpl<T: Element> {
    pub(crate) array: Array<T>,
    pub(crate) device: Device,
    /// Set by `requires_grad_` on leaves; a tensor with a `grad_fn` always requires grad.
    pub(crate) requires_grad: AtomicBool,
    /// The accumulated gradient (leaves, and non-leaves after `retain_grad`).
    pub(crate) grad: Mutex<Option<Tensor<T>>>,
    /// The recorded op that made this tensor; `None` for a leaf.
    pub(crate) grad_fn: Option<NodeRef<T>>,
    /// A leaf's gradient hooks (a non-leaf's are kept with its `grad_fn`).
    pub(crate) hooks: Mutex<Option<Hooks<T>>>,
}

impl<T: Element> Clone for Tensor<T> {
    fn clone(&self) -> Self {
        Tensor(ManuallyDrop::new(Arc::clone(&self.0)))
    }
}

impl<T: Element> Drop for Tensor<T> {
    fn drop(&mut self) {
        // SAFETY: the handle is not used again: this is the tensor's last moment.
        handle::release(unsafe { ManuallyDrop::take(&mut self.0) });
    }
}

impl<T: Element> Tensor<T> {
    /// A leaf tensor over `array`.
    pub(crate) fn from_array(array: Array<T>) -> Self {
        Tensor::from_parts(array, None, false)
    }

    pub(crate) fn from_parts(
        array: Array<T>,
        grad_fn: Option<NodeRef<T>>,
        requires_grad: bool,
    ) -> Self {
        Tensor(ManuallyDrop::new(handle::new(
            array,
            grad_fn,
            requires_grad,
        )))
    }

    pub(crate) fn array(&self) -> &Array<T> {
        &self.0.array
    }

    /// The shape, e.g. `[64, 4]`; `[]` for a scalar.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert_eq!(Tensor::<f32>::zeros(&[64, 4]).shape(), &[64, 4]);
    /// ```
    pub fn shape(&self) -> &[usize] {
        self.array().shape()
    }

    /// The number of dims (0 for a scalar).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert_eq!((Tensor::<f32>::scalar(1.0).ndim(), Tensor::<f32>::zeros(&[2, 3]).ndim()), (0, 2));
    /// ```
    pub fn ndim(&self) -> usize {
        self.array().ndim()
    }

    /// The number of elements.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert_eq!(Tensor::<i64>::zeros(&[2, 3]).numel(), 6);
    /// ```
    pub fn numel(&self) -> usize {
        self.array().numel()
    }

    /// The strides of each dim, in elements (a view's strides are not row-major).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::zeros(&[2, 3]);
    /// assert_eq!((x.strides(), x.t().strides()), (&[3, 1][..], &[1, 3][..]));
    /// ```
    pub fn strides(&self) -> &[usize] {
        &self.array().layout().strides
    }

    /// True if the elements are stored densely in row-major order.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::zeros(&[2, 3]);
    /// assert!(x.is_contiguous() && !x.t().is_contiguous());
    /// ```
    pub fn is_contiguous(&self) -> bool {
        self.array().is_contiguous()
    }

    /// A row-major copy of the contents, whatever the strides.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    /// assert_eq!(x.t().to_vec(), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    /// ```
    pub fn to_vec(&self) -> Vec<T> {
        self.array().to_vec()
    }

    /// The single value of a one-element tensor. Panics otherwise (see [`Tensor::try_item`]).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert_eq!(Tensor::<f32>::ones(&[1, 1]).item(), 1.0);
    /// ```
    #[track_caller]
    pub fn item(&self) -> T {
        or_panic(self.try_item())
    }

    /// The single value of a one-element tensor, or an error naming the shape.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert!(Tensor::<f32>::ones(&[2]).try_item().is_err());
    /// ```
    pub fn try_item(&self) -> Result<T> {
        if self.numel() != 1 {
            return Err(Error::shape(
                "item",
                format!(
                    "a tensor with {} elements (shape {:?}) cannot be converted to a scalar",
                    self.numel(),
                    self.shape()
                ),
            ));
        }
        Ok(self.array().get_flat(0))
    }

    /// The element type, like `x.dtype`.
    ///
    /// ```
    /// use tapegrad::{DType, Tensor};
    /// assert_eq!(Tensor::<f64>::zeros(&[1]).dtype(), DType::F64);
    /// ```
    pub fn dtype(&self) -> DType {
        T::DTYPE
    }

    /// The device the data lives on.
    ///
    /// ```
    /// use tapegrad::{Device, Tensor};
    /// assert_eq!(Tensor::<f32>::zeros(&[1]).device(), Device::Cpu);
    /// ```
    pub fn device(&self) -> Device {
        self.0.device
    }

    /// This tensor on `device`, like `tensor.to(device)`. Today every device is the CPU, so
    /// this returns the same handle (autograd history included).
    ///
    /// ```
    /// use tapegrad::{Device, Tensor};
    /// let x: Tensor = Tensor::ones(&[2]);
    /// assert_eq!(x.to_device(Device::Cpu).to_vec(), vec![1.0, 1.0]);
    /// ```
    pub fn to_device(&self, device: Device) -> Tensor<T> {
        match device {
            Device::Cpu => self.clone(),
        }
    }
}

impl<T: Float> Tensor<T> {
    /// Runs `op` on the inputs and records it on the tape when gradients are wanted.
    /// Every differentiable tensor method goes through here.
    pub(crate) fn apply(op: Op<T>, inputs: &[&Tensor<T>]) -> Result<Tensor<T>> {
        // The result is written straight into its handle (see `handle`).
        let mut handle = handle::Unwritten::new();
        let out = handle.array();
        match inputs {
            [a] => op.eval_into(&[a.array()], out)?,
            [a, b] => op.eval_into(&[a.array(), b.array()], out)?,
            [a, b, c] => op.eval_into(&[a.array(), b.array(), c.array()], out)?,
            many => {
                let arrays: Vec<&Array<T>> = many.iter().map(|t| t.array()).collect();
                op.eval_into(&arrays, out)?
            }
        }
        // SAFETY: `eval_into` returned `Ok`, so it wrote the array.
        let output = unsafe { handle.written() };
        if !tape::records(inputs) {
            return Ok(Tensor(ManuallyDrop::new(output.finish(None, false))));
        }
        Ok(tape::record(op, inputs, output))
    }
}

impl<T: Element> Value<T> for Tensor<T> {
    fn dims(&self) -> &[usize] {
        self.shape()
    }

    fn try_view_op(&self, view: View) -> Result<Self> {
        // A reshape of a strided tensor copies: a copy the allocator refuses is an error.
        let name = <View as crate::ops::OpDef<T>>::name(&view);
        let output = crate::array::catching_alloc_failure(|| name, || view.apply(self.array()))?;
        if !tape::records(&[self]) {
            return Ok(Tensor::from_array(output));
        }
        Ok(tape::record(
            Op::View(view),
            &[self],
            handle::Written::from_array(output),
        ))
    }

    fn op_grads(op: &Op<T>, rule: &crate::ops::Rule<'_, Self>, g: &Self) -> crate::ops::Written
    where
        T: Float,
    {
        T::tensor_grads(op, rule, g)
    }

    fn try_apply(op: Op<T>, inputs: &[&Self]) -> Result<Self>
    where
        T: Float,
    {
        Tensor::apply(op, inputs)
    }

    fn records() -> bool {
        true
    }
}

// Tensors cross threads (data-parallel loaders, two models trained at once): keep it so.
const _: () = {
    const fn assert_send_sync<S: Send + Sync>() {}
    assert_send_sync::<Tensor<f32>>();
    assert_send_sync::<Tensor<f64>>();
    assert_send_sync::<Tensor<i64>>();
    assert_send_sync::<Tensor<bool>>();
    assert_send_sync::<Error>();
};
