//! `no_grad`: a per-thread switch that stops recording.

use std::cell::Cell;
use std::marker::PhantomData;

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// True unless the current thread is inside [`no_grad`] or holds a [`NoGradGuard`].
///
/// ```
/// use tapegrad::{autograd::is_grad_enabled, no_grad};
/// assert!(is_grad_enabled());
/// assert!(!no_grad(is_grad_enabled));
/// ```
#[inline]
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(Cell::get)
}

/// Runs `f` without recording ops, like `with torch.no_grad():`. Nestable; affects only
/// the calling thread.
///
/// ```
/// use tapegrad::{no_grad, Tensor};
/// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
/// let y = no_grad(|| &w * 2.0);
/// assert!(!y.requires_grad());
/// ```
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    let _guard = no_grad_guard();
    f()
}

/// Stops recording until the returned guard is dropped (the RAII form of [`no_grad`]).
///
/// ```
/// use tapegrad::{no_grad_guard, Tensor};
/// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
/// {
///     let _guard = no_grad_guard();
///     w.sub_(&(&w * 0.5)); // allowed: not recorded
/// }
/// assert_eq!(w.to_vec(), vec![0.5, 0.5]);
/// ```
pub fn no_grad_guard() -> NoGradGuard {
    NoGradGuard {
        previous: GRAD_ENABLED.with(|g| g.replace(false)),
        _not_send: PhantomData,
    }
}

/// Restores the previous recording state when dropped. Not `Send`: the state it restores
/// belongs to the thread that made it.
///
/// ```
/// use tapegrad::{no_grad_guard, Tensor};
/// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
/// {
///     let _guard = no_grad_guard();
///     assert!(!(&w * 2.0).requires_grad());
/// }
/// assert!((&w * 2.0).requires_grad());
/// ```
#[must_use = "recording resumes as soon as the guard is dropped"]
pub struct NoGradGuard {
    previous: bool,
    _not_send: PhantomData<*const ()>,
}

impl Drop for NoGradGuard {
    fn drop(&mut self) {
        GRAD_ENABLED.with(|g| g.set(self.previous));
    }
}

/// Turns recording on until the guard drops (backward with `create_graph` records its
/// gradients even when called under `no_grad`, as PyTorch's does).
pub(crate) fn enable_grad_guard() -> NoGradGuard {
    NoGradGuard {
        previous: GRAD_ENABLED.with(|g| g.replace(true)),
        _not_send: PhantomData,
    }
}
