//! Tensor hooks: `register_hook` sees a tensor's gradient during backward and may replace
//! it, like PyTorch's `Tensor.register_hook`.

use super::tape::{lock, Grad};
use crate::element::{Element, Float};
use crate::error::{or_panic, Error, Result};
use crate::tensor::Tensor;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

type HookFn<T> = Arc<dyn Fn(&Tensor<T>) -> Option<Tensor<T>> + Send + Sync>;
/// Registered hooks with their ids (for `HookHandle::remove`).
type HookList<T> = Mutex<Vec<(u64, HookFn<T>)>>;

static NEXT_HOOK: AtomicU64 = AtomicU64::new(0);

/// Set once any hook is registered: until then backward looks for none (no lock taken).
static ANY: AtomicBool = AtomicBool::new(false);

/// Whether any hook was ever registered in this process.
#[inline]
pub(crate) fn any() -> bool {
    ANY.load(Ordering::Relaxed)
}

/// The hooks in `slot` (a tensor's or a node's), if any were ever registered.
#[inline]
pub(crate) fn of<T: Element>(slot: &Mutex<Option<Hooks<T>>>) -> Option<Hooks<T>> {
    if any() {
        lock(slot).clone()
    } else {
        None
    }
}

/// The hooks of one tensor (a leaf's, kept with it) or of one recorded op's output (a
/// non-leaf's, kept with its node), in the order they were registered.
pub(crate) struct Hooks<T: Element> {
    list: Arc<HookList<T>>,
}

impl<T: Element> Clone for Hooks<T> {
    fn clone(&self) -> Self {
        Hooks {
            list: Arc::clone(&self.list),
        }
    }
}

impl<T: Element> Default for Hooks<T> {
    fn default() -> Self {
        Hooks {
            list: Arc::default(),
        }
    }
}

impl<T: Float> Hooks<T> {
    /// Runs every hook on `grad` in turn, each seeing what the one before returned.
    pub(crate) fn run<G: Grad<T>>(&self, mut grad: G) -> Result<G> {
        // A copy of the list, so a hook may register or remove hooks without a deadlock.
        let hooks: Vec<HookFn<T>> = lock(&self.list).iter().map(|(_, h)| h.clone()).collect();
        for hook in hooks {
            let seen = grad.to_tensor();
            if let Some(new) = hook(&seen) {
                if new.shape() != seen.shape() {
                    return Err(Error::shape(
                        "register_hook",
                        format!(
                            "a hook returned a gradient of shape {:?} for a tensor of shape {:?}",
                            new.shape(),
                            seen.shape()
                        ),
                    ));
                }
                grad = G::from_tensor(new);
            }
        }
        Ok(grad)
    }
}

impl<T: Element> Hooks<T> {
    fn add(&self, hook: HookFn<T>) -> HookHandle {
        let id = NEXT_HOOK.fetch_add(1, Ordering::Relaxed);
        lock(&self.list).push((id, hook));
        let list: Weak<HookList<T>> = Arc::downgrade(&self.list);
        HookHandle {
            remove: Box::new(move || {
                if let Some(list) = list.upgrade() {
                    lock(&list).retain(|(i, _)| *i != id);
                }
            }),
        }
    }
}

/// What [`Tensor::register_hook`] returns: [`HookHandle::remove`] takes the hook off again.
/// Dropping the handle keeps the hook (as in PyTorch).
///
/// ```
/// use tapegrad::Tensor;
/// let x: Tensor = Tensor::ones(&[2]).requires_grad_(true);
/// let handle: tapegrad::autograd::HookHandle = x.register_hook(|g| Some(g * 3.0));
/// (&x * 2.0).sum().backward();
/// assert_eq!(x.grad().unwrap().to_vec(), vec![6.0, 6.0]);
/// handle.remove();
/// ```
pub struct HookHandle {
    remove: Box<dyn FnOnce() + Send + Sync>,
}

impl HookHandle {
    /// Removes the hook; later backward passes no longer call it.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::ones(&[2]).requires_grad_(true);
    /// let handle = x.register_hook(|g| Some(g * 10.0));
    /// handle.remove();
    /// x.sum().backward();
    /// assert_eq!(x.grad().unwrap().to_vec(), vec![1.0, 1.0]);
    /// ```
    pub fn remove(self) {
        (self.remove)()
    }
}

impl std::fmt::Debug for HookHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HookHandle")
    }
}

impl<T: Float> Tensor<T> {
    /// Registers `hook` to be called with this tensor's gradient each time backward
    /// computes it; returning `Some(g)` replaces the gradient (what flows on, and what a
    /// leaf accumulates), `None` keeps it. Like PyTorch's `register_hook`. Panics on a
    /// tensor that does not require grad (see [`Tensor::try_register_hook`]).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::from_vec(vec![1.0, 2.0], &[2]).requires_grad_(true);
    /// let h = &x * 3.0;
    /// let _seen = h.register_hook(|g| Some(g * 2.0)); // doubles what flows back through h
    /// h.sum().backward();
    /// assert_eq!(x.grad().unwrap().to_vec(), vec![6.0, 6.0]);
    /// ```
    #[track_caller]
    pub fn register_hook(
        &self,
        hook: impl Fn(&Tensor<T>) -> Option<Tensor<T>> + Send + Sync + 'static,
    ) -> HookHandle {
        or_panic(self.try_register_hook(hook))
    }

    /// [`Tensor::register_hook`] returning an error for a tensor that does not require grad.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::ones(&[2]);
    /// assert!(x.try_register_hook(|_| None).is_err());
    /// ```
    pub fn try_register_hook(
        &self,
        hook: impl Fn(&Tensor<T>) -> Option<Tensor<T>> + Send + Sync + 'static,
    ) -> Result<HookHandle> {
        if !self.requires_grad() {
            return Err(Error::autograd(
                "register_hook",
                "cannot register a hook on a tensor that does not require grad",
            ));
        }
        ANY.store(true, Ordering::Relaxed);
        let hook = Arc::new(hook);
        Ok(match &self.0.grad_fn {
            Some(node) => node
                .extras()
                .hooks
                .get_or_insert_with(Hooks::default)
                .add(hook),
            None => lock(&self.0.hooks)
                .get_or_insert_with(Hooks::default)
                .add(hook),
        })
    }
}
