//! Anomaly detection, like `torch.autograd.detect_anomaly`: in this mode a NaN or an
//! infinity made by a backward rule is an error naming the op and the line of the user's
//! code whose forward call recorded it.
//!
//! Each public op method is `#[track_caller]` and, in anomaly mode, notes its caller's
//! location for the op it records (the outermost call wins, so an op built from other ops
//! is reported at the user's line, not inside tapegrad). Off, the mode costs one relaxed
//! atomic load per op: nothing is recorded and backward checks nothing.

use std::cell::Cell;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, Ordering};

thread_local! {
    static ENABLED: Cell<bool> = const { Cell::new(false) };
    /// The user's call site of the op being recorded.
    static SITE: Cell<Option<&'static Location<'static>>> = const { Cell::new(None) };
}

/// Set once any thread turns the mode on: until then no op looks at the thread's state.
static EVER_ENABLED: AtomicBool = AtomicBool::new(false);

/// Turns anomaly detection on or off for the current thread (like
/// `torch.autograd.set_detect_anomaly`, which PyTorch also keeps per thread).
///
/// ```
/// use tapegrad::autograd::{is_anomaly_enabled, set_detect_anomaly};
/// set_detect_anomaly(true);
/// assert!(is_anomaly_enabled());
/// set_detect_anomaly(false);
/// ```
pub fn set_detect_anomaly(on: bool) {
    if on {
        EVER_ENABLED.store(true, Ordering::Relaxed);
    }
    ENABLED.with(|e| e.set(on));
}

/// Whether anomaly detection is on in the current thread.
///
/// ```
/// assert!(!tapegrad::autograd::is_anomaly_enabled());
/// ```
#[inline]
pub fn is_anomaly_enabled() -> bool {
    EVER_ENABLED.load(Ordering::Relaxed) && ENABLED.with(Cell::get)
}

/// Runs `f` with anomaly detection on (restoring the previous mode after), and returns
/// its value, like `with torch.autograd.detect_anomaly():`. A NaN or infinity that a
/// backward rule makes inside becomes an `Err` from `try_backward` (a panic from
/// `backward`) naming the op and where it was called.
///
/// ```
/// use tapegrad::autograd::detect_anomaly;
/// use tapegrad::Tensor;
/// let x: Tensor<f64> = Tensor::from_vec(vec![0.0, 1.0], &[2]).requires_grad_(true);
/// let error = detect_anomaly(|| x.sqrt().sum().try_backward()).unwrap_err();
/// assert!(error.to_string().contains("sqrt"));       // d sqrt(x)/dx is inf at 0
/// assert!(error.to_string().contains(file!()));      // and this line called it
/// ```
pub fn detect_anomaly<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            set_detect_anomaly(self.0);
        }
    }
    let _restore = Restore(is_anomaly_enabled());
    set_detect_anomaly(true);
    f()
}

/// Notes `caller` as the call site of the ops recorded until the guard drops, if the mode
/// is on and no outer call has noted one.
#[inline]
pub(crate) fn enter(caller: &'static Location<'static>) -> SiteGuard {
    if !EVER_ENABLED.load(Ordering::Relaxed) || !ENABLED.with(Cell::get) {
        return SiteGuard(false);
    }
    let outermost = SITE.with(|s| s.get().is_none());
    if outermost {
        SITE.with(|s| s.set(Some(caller)));
    }
    SiteGuard(outermost)
}

/// Clears the call site when the outermost op method returns.
pub(crate) struct SiteGuard(bool);

impl Drop for SiteGuard {
    #[inline]
    fn drop(&mut self) {
        if self.0 {
            SITE.with(|s| s.set(None));
        }
    }
}

/// The call site to store with an op being recorded (only in anomaly mode).
#[inline]
pub(crate) fn site() -> Option<&'static Location<'static>> {
    if EVER_ENABLED.load(Ordering::Relaxed) && ENABLED.with(Cell::get) {
        SITE.with(Cell::get)
    } else {
        None
    }
}
