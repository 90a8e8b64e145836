//! Learning-rate schedules, like `torch.optim.lr_scheduler`.
//!
//! A scheduler is made from the optimizer (`StepLr::new(&opt, 7, 0.5)`) and keeps only a
//! handle to its learning rate ([`SharedLr`]), not a borrow: the loop calls `opt.step()`
//! then `scheduler.step()`, and the optimizer's `lr()` follows. Each follows PyTorch's
//! recursive formulas in f64, so `get_last_lr()` gives PyTorch's sequence
//! (`tests/lr_scheduler.rs` compares them).
//!
//! ```
//! use tapegrad::optim::lr_scheduler::StepLr;
//! use tapegrad::optim::{Optimizer, Sgd};
//! use tapegrad::Tensor;
//! let w: Tensor<f64> = Tensor::ones(&[1]).requires_grad_(true);
//! let mut opt = Sgd::new(vec![w], 1.0);
//! let mut schedule = StepLr::new(&opt, 2, 0.5);
//! let mut seen = Vec::new();
//! for _ in 0..5 {
//!     opt.step();
//!     schedule.step();
//!     seen.push(opt.lr());
//! }
//! assert_eq!(seen, [1.0, 0.5, 0.5, 0.25, 0.25]);
//! ```

use super::{Optimizer, SharedLr};
use crate::element::Float;
use crate::error::{Error, ErrorKind, Result};
use crate::nn::DynTensor;
use crate::Tensor;
use std::marker::PhantomData;

/// What every epoch-based scheduler has: `step()` and `get_last_lr()`.
///
/// ```
/// use tapegrad::optim::lr_scheduler::{ExponentialLr, LrScheduler, StepLr};
/// use tapegrad::optim::Sgd;
/// use tapegrad::Tensor;
/// let opt = Sgd::new(vec![Tensor::<f32>::ones(&[1]).requires_grad_(true)], 0.1);
/// let mut all: Vec<Box<dyn LrScheduler<f32>>> =
///     vec![Box::new(StepLr::new(&opt, 1, 0.5)), Box::new(ExponentialLr::new(&opt, 0.5))];
/// all[0].step();
/// assert_eq!(all[0].get_last_lr(), 0.05);
/// ```
pub trait LrScheduler<T: Float = f32> {
    /// Advances one epoch (or one batch, for a per-batch schedule) and sets the
    /// optimizer's learning rate.
    ///
    /// ```
    /// use tapegrad::optim::lr_scheduler::{LrScheduler, StepLr};
    /// use tapegrad::optim::{Optimizer, Sgd};
    /// use tapegrad::Tensor;
    /// let sgd = Sgd::new(vec![Tensor::<f32>::ones(&[1]).requires_grad_(true)], 0.1);
    /// let mut schedule: Box<dyn LrScheduler> = Box::new(StepLr::new(&sgd, 1, 0.5));
    /// schedule.step();
    /// assert_eq!(sgd.lr(), 0.05);
    /// ```
    fn step(&mut self);
    /// The learning rate the last `step` (or the constructor) set.
    ///
    /// ```
    /// use tapegrad::optim::lr_scheduler::{ExponentialLr, LrScheduler};
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let sgd = Sgd::new(vec![Tensor::<f64>::ones(&[1]).requires_grad_(true)], 1.0);
    /// let mut schedule: Box<dyn LrScheduler<f64>> = Box::new(ExponentialLr::new(&sgd, 0.5));
    /// schedule.step();
    /// schedule.step();
    /// assert_eq!(schedule.get_last_lr(), 0.25);
    /// ```
    fn get_last_lr(&self) -> T;
    /// The schedule's position and settings under PyTorch's names (`last_epoch`,
    /// `_step_count`, `_last_lr`, `base_lrs`, and its hyperparameters), to save beside
    /// the optimizer's checkpoint (`nn::save_tensors`).
    ///
    /// ```
    /// use tapegrad::optim::lr_scheduler::{LrScheduler, StepLr};
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let sgd = Sgd::new(vec![Tensor::<f32>::ones(&[1]).requires_grad_(true)], 0.1);
    /// let mut schedule = StepLr::new(&sgd, 2, 0.5);
    /// schedule.step();
    /// let state = LrScheduler::state_dict(&schedule);
    /// assert!(state.iter().any(|(name, _)| name == "last_epoch"));
    /// ```
    fn state_dict(&self) -> Vec<(String, DynTensor)>;
    /// Resumes from [`state_dict`](LrScheduler::state_dict): an error, changing nothing,
    /// for the state of another kind of schedule or of other settings.
    ///
    /// ```
    /// use tapegrad::optim::lr_scheduler::{ExponentialLr, LrScheduler, StepLr};
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let sgd = Sgd::new(vec![Tensor::<f32>::ones(&[1]).requires_grad_(true)], 0.1);
    /// let mut first = StepLr::new(&sgd, 1, 0.5);
    /// first.step();
    /// let state = LrScheduler::state_dict(&first);
    /// let mut resumed = StepLr::new(&sgd, 1, 0.5);
    /// resumed.load_state_dict(&state)?;
    /// assert_eq!(resumed.get_last_lr(), first.get_last_lr());
    /// // Another kind of schedule: refused.
    /// assert!(ExponentialLr::new(&sgd, 0.9).load_state_dict(&state).is_err());
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    fn load_state_dict(&mut self, state: &[(String, DynTensor)]) -> Result<()>;
}

/// The state every scheduler shares: the handle, the base rate and the epoch counter.
#[derive(Debug, Clone)]
struct Schedule<T> {
    lr: SharedLr,
    base_lr: f64,
    last_epoch: i64,
    step_count: u64,
    last_lr: f64,
    _t: PhantomData<T>,
}

impl<T: Float> Schedule<T> {
    fn new(name: &'static str, optimizer: &(impl Optimizer<T> + ?Sized)) -> Result<Self> {
        let lr = optimizer.shared_lr().ok_or_else(|| {
            Error::new(
                ErrorKind::Value,
                name,
                "the optimizer gives no shared learning rate (Optimizer::shared_lr)",
            )
        })?;
        let base_lr = lr.get();
        Ok(Schedule {
            lr,
            base_lr,
            last_epoch: -1,
            step_count: 0,
            last_lr: base_lr,
            _t: PhantomData,
        })
    }

    /// One step: the epoch advances, `next(epoch, current lr)` gives the new rate.
    fn step(&mut self, next: impl FnOnce(&Self, f64) -> f64) {
        self.step_count += 1;
        self.last_epoch += 1;
        let new = next(self, self.lr.get());
        self.lr.set(new);
        self.last_lr = new;
    }

    fn last(&self) -> T {
        T::from(self.last_lr).unwrap_or_else(T::nan)
    }

    /// The position (`last_epoch`, `_step_count`, `_last_lr`, `base_lrs`) and the settings
    /// `hyper` as named tensors; `counters` is per-schedule mutable state (f64).
    fn state(
        &self,
        hyper: &[(&str, Vec<f64>)],
        counters: &[(&str, f64)],
    ) -> Vec<(String, DynTensor)> {
        let mut out = vec![
            (
                "last_epoch".to_string(),
                DynTensor::from(Tensor::<i64>::scalar(self.last_epoch)),
            ),
            (
                "_step_count".to_string(),
                DynTensor::from(Tensor::<i64>::scalar(self.step_count as i64)),
            ),
            (
                "_last_lr".to_string(),
                DynTensor::from(Tensor::from_vec(vec![self.last_lr], &[1])),
            ),
            (
                "base_lrs".to_string(),
                DynTensor::from(Tensor::from_vec(vec![self.base_lr], &[1])),
            ),
        ];
        for (name, values) in hyper {
            let n = values.len();
            out.push((
                name.to_string(),
                DynTensor::from(Tensor::from_vec(values.clone(), &[n])),
            ));
        }
        for (name, value) in counters {
            out.push((
                name.to_string(),
                DynTensor::from(Tensor::<f64>::scalar(*value)),
            ));
        }
        out
    }

    /// Reads a state written by [`Schedule::state`] for the same settings `hyper`; returns
    /// the counters' values in `counters`' order. Nothing changes on an error.
    fn load(
        &mut self,
        name: &'static str,
        state: &[(String, DynTensor)],
        hyper: &[(&str, Vec<f64>)],
        counters: &[&str],
    ) -> Result<Vec<f64>> {
        let error = |m: String| Error::new(ErrorKind::Format, name, m);
        let find = |key: &str| -> Result<&DynTensor> {
            state
                .iter()
                .find(|(n, _)| n == key)
                .map(|(_, t)| t)
                .ok_or_else(|| error(format!("the state has no {key:?}: it is not a {name}'s")))
        };
        let floats = |key: &str| -> Result<Vec<f64>> {
            find(key)?
                .to_tensor::<f64>()
                .map(|t| t.to_vec())
                .ok_or_else(|| error(format!("{key:?} must be f64")))
        };
        let int = |key: &str| -> Result<i64> {
            match find(key)?.to_tensor::<i64>().map(|t| t.to_vec()).as_deref() {
                Some(&[v]) => Ok(v),
                _ => Err(error(format!("{key:?} must be one i64"))),
            }
        };
        let expected = 4 + hyper.len() + counters.len();
        if state.len() != expected {
            return Err(error(format!(
                "the state has {} entries, a {name}'s has {expected}",
                state.len()
            )));
        }
        for (key, values) in hyper {
            let saved = floats(key)?;
            if saved
                .iter()
                .map(|v| v.to_bits())
                .ne(values.iter().map(|v| v.to_bits()))
            {
                return Err(error(format!(
                    "the state is for {key} = {saved:?}, this schedule has {values:?}"
                )));
            }
        }
        let (epoch, steps) = (int("last_epoch")?, int("_step_count")?);
        let (last, base) = (floats("_last_lr")?, floats("base_lrs")?);
        let (&[last], &[base]) = (last.as_slice(), base.as_slice()) else {
            return Err(error(
                "one learning rate per state: the optimizer has one group".into(),
            ));
        };
        let values = counters
            .iter()
            .map(|key| match floats(key)?.as_slice() {
                &[v] => Ok(v),
                _ => Err(error(format!("{key:?} must be one number"))),
            })
            .collect::<Result<Vec<f64>>>()?;
        if steps < 0 {
            return Err(error(format!("_step_count {steps} is negative")));
        }
        (self.last_epoch, self.step_count, self.last_lr, self.base_lr) =
            (epoch, steps as u64, last, base);
        Ok(values)
    }
}

fn check(name: &'static str, ok: bool, message: String) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::new(ErrorKind::Value, name, message))
    }
}

fn to_f64<T: Float>(v: T) -> f64 {
    v.to_f64().unwrap_or(f64::NAN)
}

/// Implements `LrScheduler` and the inherent `step`/`get_last_lr` from a `next` method.
/// `$make` is a constructor call on an optimizer `sgd`, for the generated doc examples.
macro_rules! scheduler_impls {
    ($name:ident, $make:literal) => {
        impl<T: Float> $name<T> {
            /// Advances one epoch and sets the optimizer's learning rate.
            ///
            /// ```
            #[doc = concat!("use tapegrad::optim::{lr_scheduler::", stringify!($name), ", Optimizer, Sgd};")]
            /// use tapegrad::Tensor;
            /// let sgd = Sgd::new(vec![Tensor::<f64>::ones(&[1]).requires_grad_(true)], 0.1);
            #[doc = concat!("let mut schedule = ", $make, ";")]
            /// schedule.step();
            /// assert_eq!(sgd.lr(), schedule.get_last_lr()); // the optimizer follows
            /// ```
            pub fn step(&mut self) {
                let this = self.clone();
                self.schedule.step(|s, lr| this.next(s, lr));
            }

            /// The learning rate the last step set (PyTorch's `get_last_lr()[0]`).
            ///
            /// ```
            #[doc = concat!("use tapegrad::optim::{lr_scheduler::", stringify!($name), ", Optimizer, Sgd};")]
            /// use tapegrad::Tensor;
            /// let sgd = Sgd::new(vec![Tensor::<f64>::ones(&[1]).requires_grad_(true)], 0.1);
            #[doc = concat!("let schedule = ", $make, ";")]
            /// assert_eq!(schedule.get_last_lr(), sgd.lr()); // the rate the optimizer has now
            /// ```
            pub fn get_last_lr(&self) -> T {
                self.schedule.last()
            }
        }

        impl<T: Float> LrScheduler<T> for $name<T> {
            fn step(&mut self) {
                $name::step(self)
            }
            fn get_last_lr(&self) -> T {
                $name::get_last_lr(self)
            }
            fn state_dict(&self) -> Vec<(String, DynTensor)> {
                self.schedule.state(&self.hyper(), &[])
            }
            fn load_state_dict(&mut self, state: &[(String, DynTensor)]) -> Result<()> {
                let hyper = self.hyper();
                self.schedule
                    .load(stringify!($name), state, &hyper, &[])
                    .map(|_| ())
            }
        }
    };
}

mod anneal;
mod plateau;
mod step;

pub use anneal::{CosineAnnealingLr, LinearLr, OneCycleLr};
pub use plateau::ReduceLrOnPlateau;
pub use step::{ExponentialLr, MultiStepLr, StepLr};
