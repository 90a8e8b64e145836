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
use crate::error::{or_panic, Error, ErrorKind, Result};
use crate::nn::DynTensor;
use crate::Tensor;
use std::f64::consts::PI;
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
    fn step(&mut self);
    /// The learning rate the last `step` (or the constructor) set.
    fn get_last_lr(&self) -> T;
    /// The schedule's position and settings under PyTorch's names (`last_epoch`,
    /// `_step_count`, `_last_lr`, `base_lrs`, and its hyperparameters), to save beside
    /// the optimizer's checkpoint (`nn::save_tensors`).
    fn state_dict(&self) -> Vec<(String, DynTensor)>;
    /// Resumes from [`state_dict`](LrScheduler::state_dict): an error, changing nothing,
    /// for the state of another kind of schedule or of other settings.
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
macro_rules! scheduler_impls {
    ($name:ident) => {
        impl<T: Float> $name<T> {
            /// Advances one epoch and sets the optimizer's learning rate.
            pub fn step(&mut self) {
                let this = self.clone();
                self.schedule.step(|s, lr| this.next(s, lr));
            }

            /// The learning rate the last step set (PyTorch's `get_last_lr()[0]`).
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

/// Multiplies the rate by `gamma` every `step_size` epochs, like `StepLR`.
///
/// ```
/// use tapegrad::optim::lr_scheduler::StepLr;
/// use tapegrad::optim::Sgd;
/// use tapegrad::Tensor;
/// let opt = Sgd::new(vec![Tensor::<f64>::ones(&[1]).requires_grad_(true)], 1.0);
/// let mut s = StepLr::new(&opt, 3, 0.1);
/// for _ in 0..3 { s.step(); }
/// assert!((s.get_last_lr() - 0.1).abs() < 1e-15);
/// ```
#[derive(Debug, Clone)]
pub struct StepLr<T: Float = f32> {
    schedule: Schedule<T>,
    step_size: usize,
    gamma: f64,
}

impl<T: Float> StepLr<T> {
    /// A schedule over `optimizer`'s learning rate; panics with [`StepLr::try_new`]'s error.
    #[track_caller]
    pub fn new(optimizer: &(impl Optimizer<T> + ?Sized), step_size: usize, gamma: T) -> Self {
        or_panic(StepLr::try_new(optimizer, step_size, gamma))
    }

    /// [`StepLr::new`], or an error for a zero `step_size` or an optimizer without a
    /// shared learning rate.
    ///
    /// ```
    /// use tapegrad::optim::lr_scheduler::StepLr;
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let opt = Sgd::new(vec![Tensor::<f64>::ones(&[1]).requires_grad_(true)], 1.0);
    /// assert!(StepLr::try_new(&opt, 0, 0.5).is_err());
    /// ```
    pub fn try_new(
        optimizer: &(impl Optimizer<T> + ?Sized),
        step_size: usize,
        gamma: T,
    ) -> Result<Self> {
        check("StepLr", step_size > 0, "step_size must be positive".into())?;
        let mut s = StepLr {
            schedule: Schedule::new("StepLr", optimizer)?,
            step_size,
            gamma: to_f64(gamma),
        };
        s.step();
        Ok(s)
    }

    /// The settings a saved state must match.
    fn hyper(&self) -> Vec<(&'static str, Vec<f64>)> {
        vec![
            ("step_size", vec![self.step_size as f64]),
            ("gamma", vec![self.gamma]),
        ]
    }

    fn next(&self, s: &Schedule<T>, lr: f64) -> f64 {
        if s.last_epoch == 0 || s.last_epoch % self.step_size as i64 != 0 {
            lr
        } else {
            lr * self.gamma
        }
    }
}

scheduler_impls!(StepLr);

/// Multiplies the rate by `gamma` at each milestone epoch, like `MultiStepLR`.
///
/// ```
/// use tapegrad::optim::lr_scheduler::MultiStepLr;
/// use tapegrad::optim::Sgd;
/// use tapegrad::Tensor;
/// let opt = Sgd::new(vec![Tensor::<f64>::ones(&[1]).requires_grad_(true)], 1.0);
/// let mut s = MultiStepLr::new(&opt, &[1, 3], 0.5);
/// let lrs: Vec<f64> = (0..4).map(|_| { s.step(); s.get_last_lr() }).collect();
/// assert_eq!(lrs, [0.5, 0.5, 0.25, 0.25]);
/// ```
#[derive(Debug, Clone)]
pub struct MultiStepLr<T: Float = f32> {
    schedule: Schedule<T>,
    milestones: Vec<usize>,
    gamma: f64,
}

impl<T: Float> MultiStepLr<T> {
    /// A schedule with the given milestones (any order; a repeated one counts twice, as in
    /// PyTorch's `Counter`).
    pub fn new(optimizer: &(impl Optimizer<T> + ?Sized), milestones: &[usize], gamma: T) -> Self {
        or_panic(MultiStepLr::try_new(optimizer, milestones, gamma))
    }

    /// [`MultiStepLr::new`], or an error for an optimizer without a shared learning rate.
    ///
    /// ```
    /// use tapegrad::optim::lr_scheduler::MultiStepLr;
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let opt = Sgd::new(vec![Tensor::<f64>::ones(&[1]).requires_grad_(true)], 1.0);
    /// assert!(MultiStepLr::try_new(&opt, &[2], 0.1).is_ok());
    /// ```
    pub fn try_new(
        optimizer: &(impl Optimizer<T> + ?Sized),
        milestones: &[usize],
        gamma: T,
    ) -> Result<Self> {
        let mut s = MultiStepLr {
            schedule: Schedule::new("MultiStepLr", optimizer)?,
            milestones: milestones.to_vec(),
            gamma: to_f64(gamma),
        };
        s.step();
        Ok(s)
    }

    /// The settings a saved state must match.
    fn hyper(&self) -> Vec<(&'static str, Vec<f64>)> {
        vec![
            (
                "milestones",
                self.milestones.iter().map(|&m| m as f64).collect(),
            ),
            ("gamma", vec![self.gamma]),
        ]
    }

    fn next(&self, s: &Schedule<T>, lr: f64) -> f64 {
        let hits = self
            .milestones
            .iter()
            .filter(|&&m| m as i64 == s.last_epoch)
            .count();
        if hits == 0 {
            lr
        } else {
            lr * self.gamma.powi(hits as i32)
        }
    }
}

scheduler_impls!(MultiStepLr);

/// Multiplies the rate by `gamma` every epoch, like `ExponentialLR`.
///
/// ```
/// use tapegrad::optim::lr_scheduler::ExponentialLr;
/// use tapegrad::optim::Sgd;
/// use tapegrad::Tensor;
/// let opt = Sgd::new(vec![Tensor::<f64>::ones(&[1]).requires_grad_(true)], 1.0);
/// let mut s = ExponentialLr::new(&opt, 0.5);
/// s.step();
/// s.step();
/// assert_eq!(s.get_last_lr(), 0.25);
/// ```
#[derive(Debug, Clone)]
pub struct ExponentialLr<T: Float = f32> {
    schedule: Schedule<T>,
    gamma: f64,
}

impl<T: Float> ExponentialLr<T> {
    /// A schedule decaying by `gamma` per epoch.
    pub fn new(optimizer: &(impl Optimizer<T> + ?Sized), gamma: T) -> Self {
        or_panic(ExponentialLr::try_new(optimizer, gamma))
    }

    /// [`ExponentialLr::new`], or an error for an optimizer without a shared learning rate.
    ///
    /// ```
    /// use tapegrad::optim::lr_scheduler::ExponentialLr;
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let opt = Sgd::new(vec![Tensor::<f64>::ones(&[1]).requires_grad_(true)], 1.0);
    /// assert_eq!(ExponentialLr::try_new(&opt, 0.9).unwrap().get_last_lr(), 1.0);
    /// ```
    pub fn try_new(optimizer: &(impl Optimizer<T> + ?Sized), gamma: T) -> Result<Self> {
        let mut s = ExponentialLr {
            schedule: Schedule::new("ExponentialLr", optimizer)?,
            gamma: to_f64(gamma),
        };
        s.step();
        Ok(s)
    }

    /// The settings a saved state must match.
    fn hyper(&self) -> Vec<(&'static str, Vec<f64>)> {
        vec![("gamma", vec![self.gamma])]
    }

    fn next(&self, s: &Schedule<T>, lr: f64) -> f64 {
        if s.last_epoch == 0 {
            lr
        } else {
            lr * self.gamma
        }
    }
}

scheduler_impls!(ExponentialLr);

/// Cosine annealing from the base rate down to `eta_min` over `t_max` epochs, like
/// `CosineAnnealingLR` (PyTorch's recursive form, which keeps following the cosine past
/// `t_max`, back up).
///
/// ```
/// use tapegrad::optim::lr_scheduler::CosineAnnealingLr;
/// use tapegrad::optim::Sgd;
/// use tapegrad::Tensor;
/// let opt = Sgd::new(vec![Tensor::<f64>::ones(&[1]).requires_grad_(true)], 1.0);
/// let mut s = CosineAnnealingLr::new(&opt, 4, 0.0);
/// for _ in 0..2 { s.step(); }
/// assert!((s.get_last_lr() - 0.5).abs() < 1e-12); // halfway
/// ```
#[derive(Debug, Clone)]
pub struct CosineAnnealingLr<T: Float = f32> {
    schedule: Schedule<T>,
    t_max: usize,
    eta_min: f64,
}

impl<T: Float> CosineAnnealingLr<T> {
    /// A schedule over `t_max` epochs down to `eta_min`.
    #[track_caller]
    pub fn new(optimizer: &(impl Optimizer<T> + ?Sized), t_max: usize, eta_min: T) -> Self {
        or_panic(CosineAnnealingLr::try_new(optimizer, t_max, eta_min))
    }

    /// [`CosineAnnealingLr::new`], or an error for a zero `t_max`.
    ///
    /// ```
    /// use tapegrad::optim::lr_scheduler::CosineAnnealingLr;
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let opt = Sgd::new(vec![Tensor::<f64>::ones(&[1]).requires_grad_(true)], 1.0);
    /// assert!(CosineAnnealingLr::try_new(&opt, 0, 0.0).is_err());
    /// ```
    pub fn try_new(
        optimizer: &(impl Optimizer<T> + ?Sized),
        t_max: usize,
        eta_min: T,
    ) -> Result<Self> {
        check(
            "CosineAnnealingLr",
            t_max > 0,
            "t_max must be positive".into(),
        )?;
        let mut s = CosineAnnealingLr {
            schedule: Schedule::new("CosineAnnealingLr", optimizer)?,
            t_max,
            eta_min: to_f64(eta_min),
        };
        s.step();
        Ok(s)
    }

    /// The settings a saved state must match.
    fn hyper(&self) -> Vec<(&'static str, Vec<f64>)> {
        vec![
            ("T_max", vec![self.t_max as f64]),
            ("eta_min", vec![self.eta_min]),
        ]
    }

    fn next(&self, s: &Schedule<T>, lr: f64) -> f64 {
        let (e, t, base, min) = (s.last_epoch, self.t_max as f64, s.base_lr, self.eta_min);
        let ef = e as f64;
        if e == 0 {
            lr
        } else if s.step_count == 1 && e > 0 {
            min + (base - min) * (1.0 + (ef * PI / t).cos()) / 2.0
        } else if (e - 1 - self.t_max as i64).rem_euclid(2 * self.t_max as i64) == 0 {
            lr + (base - min) * (1.0 - (PI / t).cos()) / 2.0
        } else {
            (1.0 + (PI * ef / t).cos()) / (1.0 + (PI * (ef - 1.0) / t).cos()) * (lr - min) + min
        }
    }
}

scheduler_impls!(CosineAnnealingLr);

/// Scales the base rate linearly from `start_factor` to `end_factor` over `total_iters`
/// epochs, like `LinearLR` (PyTorch's defaults: 1/3, 1.0, 5).
///
/// ```
/// use tapegrad::optim::lr_scheduler::LinearLr;
/// use tapegrad::optim::Sgd;
/// use tapegrad::Tensor;
/// let opt = Sgd::new(vec![Tensor::<f64>::ones(&[1]).requires_grad_(true)], 1.0);
/// let mut s = LinearLr::new(&opt, 0.5, 1.0, 2);
/// assert_eq!(s.get_last_lr(), 0.5);
/// s.step();
/// s.step();
/// assert_eq!(s.get_last_lr(), 1.0);
/// ```
#[derive(Debug, Clone)]
pub struct LinearLr<T: Float = f32> {
    schedule: Schedule<T>,
    start_factor: f64,
    end_factor: f64,
    total_iters: usize,
}

impl<T: Float> LinearLr<T> {
    /// A linear warm-up (or decay) of the factor.
    #[track_caller]
    pub fn new(
        optimizer: &(impl Optimizer<T> + ?Sized),
        start_factor: T,
        end_factor: T,
        total_iters: usize,
    ) -> Self {
        or_panic(LinearLr::try_new(
            optimizer,
            start_factor,
            end_factor,
            total_iters,
        ))
    }

    /// [`LinearLr::new`], or an error for factors outside PyTorch's ranges
    /// (`0 < start_factor <= 1`, `0 <= end_factor <= 1`).
    ///
    /// ```
    /// use tapegrad::optim::lr_scheduler::LinearLr;
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let opt = Sgd::new(vec![Tensor::<f64>::ones(&[1]).requires_grad_(true)], 1.0);
    /// assert!(LinearLr::try_new(&opt, 0.0, 1.0, 5).is_err());
    /// ```
    pub fn try_new(
        optimizer: &(impl Optimizer<T> + ?Sized),
        start_factor: T,
        end_factor: T,
        total_iters: usize,
    ) -> Result<Self> {
        let (start, end) = (to_f64(start_factor), to_f64(end_factor));
        check(
            "LinearLr",
            start > 0.0 && start <= 1.0 && (0.0..=1.0).contains(&end),
            format!("factors must satisfy 0 < start_factor <= 1 and 0 <= end_factor <= 1, got {start} and {end}"),
        )?;
        let mut s = LinearLr {
            schedule: Schedule::new("LinearLr", optimizer)?,
            start_factor: start,
            end_factor: end,
            total_iters,
        };
        s.step();
        Ok(s)
    }

    /// The settings a saved state must match.
    fn hyper(&self) -> Vec<(&'static str, Vec<f64>)> {
        vec![
            ("start_factor", vec![self.start_factor]),
            ("end_factor", vec![self.end_factor]),
            ("total_iters", vec![self.total_iters as f64]),
        ]
    }

    fn next(&self, s: &Schedule<T>, lr: f64) -> f64 {
        let e = s.last_epoch;
        let (a, b) = (self.start_factor, self.end_factor);
        if e == 0 {
            lr * a
        } else if e > self.total_iters as i64 {
            lr
        } else {
            lr * (1.0 + (b - a) / (self.total_iters as f64 * a + (e - 1) as f64 * (b - a)))
        }
    }
}

scheduler_impls!(LinearLr);

/// The 1cycle policy, like `OneCycleLR(optimizer, max_lr, total_steps)`, stepped once per
/// batch: from `max_lr / 25` up to `max_lr` over the first 30% of the steps, then down to
/// `max_lr / 25 / 10⁴`, along cosines (PyTorch's defaults). Unlike PyTorch's default, the
/// optimizer's momentum is not cycled.
///
/// ```
/// use tapegrad::optim::lr_scheduler::OneCycleLr;
/// use tapegrad::optim::Sgd;
/// use tapegrad::Tensor;
/// let opt = Sgd::new(vec![Tensor::<f64>::ones(&[1]).requires_grad_(true)], 1.0);
/// let mut s = OneCycleLr::new(&opt, 1.0, 10);
/// assert!((s.get_last_lr() - 0.04).abs() < 1e-15); // max_lr / 25, through the cosine (as PyTorch)
/// for _ in 0..2 { s.step(); }
/// assert!((s.get_last_lr() - 1.0).abs() < 1e-12); // the peak, at step 0.3 · 10 - 1
/// assert!(s.try_step().is_ok());
/// ```
#[derive(Debug, Clone)]
pub struct OneCycleLr<T: Float = f32> {
    schedule: Schedule<T>,
    total_steps: usize,
    /// (end step, start lr, end lr) of each phase.
    phases: [(f64, f64, f64); 2],
}

impl<T: Float> OneCycleLr<T> {
    /// A 1cycle schedule peaking at `max_lr`, over `total_steps` steps.
    #[track_caller]
    pub fn new(optimizer: &(impl Optimizer<T> + ?Sized), max_lr: T, total_steps: usize) -> Self {
        or_panic(OneCycleLr::try_new(optimizer, max_lr, total_steps))
    }

    /// [`OneCycleLr::new`], or an error for zero `total_steps`.
    ///
    /// ```
    /// use tapegrad::optim::lr_scheduler::OneCycleLr;
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let opt = Sgd::new(vec![Tensor::<f64>::ones(&[1]).requires_grad_(true)], 1.0);
    /// assert!(OneCycleLr::try_new(&opt, 0.1, 0).is_err());
    /// ```
    pub fn try_new(
        optimizer: &(impl Optimizer<T> + ?Sized),
        max_lr: T,
        total_steps: usize,
    ) -> Result<Self> {
        check(
            "OneCycleLr",
            total_steps > 0,
            "total_steps must be positive".into(),
        )?;
        let max_lr = to_f64(max_lr);
        let (pct_start, div_factor, final_div_factor) = (0.3, 25.0, 1e4);
        let initial_lr = max_lr / div_factor;
        let min_lr = initial_lr / final_div_factor;
        let mut schedule = Schedule::new("OneCycleLr", optimizer)?;
        schedule.lr.set(initial_lr);
        schedule.base_lr = initial_lr;
        let mut s = OneCycleLr {
            schedule,
            total_steps,
            phases: [
                (pct_start * total_steps as f64 - 1.0, initial_lr, max_lr),
                ((total_steps - 1) as f64, max_lr, min_lr),
            ],
        };
        s.step();
        Ok(s)
    }

    /// [`step`](Self::step), or an error past `total_steps` (PyTorch's ValueError), with
    /// the rate left as it was.
    ///
    /// ```
    /// use tapegrad::optim::lr_scheduler::OneCycleLr;
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let opt = Sgd::new(vec![Tensor::<f64>::ones(&[1]).requires_grad_(true)], 1.0);
    /// let mut s = OneCycleLr::new(&opt, 1.0, 2);
    /// assert!(s.try_step().is_ok());
    /// assert!(s.try_step().is_ok());
    /// assert!(s.try_step().is_err());
    /// ```
    pub fn try_step(&mut self) -> Result<()> {
        let next = self.schedule.last_epoch + 1;
        check(
            "OneCycleLr",
            next <= self.total_steps as i64,
            format!(
                "tried to step {} times; the number of total steps is {}",
                next, self.total_steps
            ),
        )?;
        let this = self.clone();
        self.schedule.step(|s, lr| this.next(s, lr));
        Ok(())
    }

    /// One batch's step; panics past `total_steps` (see [`try_step`](Self::try_step)).
    #[track_caller]
    pub fn step(&mut self) {
        or_panic(self.try_step())
    }

    /// The learning rate the last step set.
    pub fn get_last_lr(&self) -> T {
        self.schedule.last()
    }

    /// The settings a saved state must match.
    fn hyper(&self) -> Vec<(&'static str, Vec<f64>)> {
        vec![
            ("total_steps", vec![self.total_steps as f64]),
            ("max_lr", vec![self.phases[0].2]),
            ("initial_lr", vec![self.phases[0].1]),
            ("min_lr", vec![self.phases[1].2]),
        ]
    }

    fn next(&self, s: &Schedule<T>, _lr: f64) -> f64 {
        let step = s.last_epoch as f64;
        let mut start_step = 0.0;
        for (i, &(end_step, start_lr, end_lr)) in self.phases.iter().enumerate() {
            if step <= end_step || i == self.phases.len() - 1 {
                let pct = (step - start_step) / (end_step - start_step);
                let cos_out = (PI * pct).cos() + 1.0;
                return end_lr + (start_lr - end_lr) / 2.0 * cos_out;
            }
            start_step = end_step;
        }
        unreachable!("the last phase always matches")
    }
}

impl<T: Float> LrScheduler<T> for OneCycleLr<T> {
    fn step(&mut self) {
        OneCycleLr::step(self)
    }
    fn get_last_lr(&self) -> T {
        OneCycleLr::get_last_lr(self)
    }
    fn state_dict(&self) -> Vec<(String, DynTensor)> {
        self.schedule.state(&self.hyper(), &[])
    }
    fn load_state_dict(&mut self, state: &[(String, DynTensor)]) -> Result<()> {
        let hyper = self.hyper();
        self.schedule
            .load("OneCycleLr", state, &hyper, &[])
            .map(|_| ())
    }
}

/// Cuts the rate by `factor` when a metric stops improving for `patience` epochs, like
/// `ReduceLROnPlateau` (defaults: mode min, factor 0.1, patience 10, threshold 1e-4
/// relative, cooldown 0, min_lr 0, eps 1e-8).
///
/// ```
/// use tapegrad::optim::lr_scheduler::ReduceLrOnPlateau;
/// use tapegrad::optim::{Optimizer, Sgd};
/// use tapegrad::Tensor;
/// let opt = Sgd::new(vec![Tensor::<f64>::ones(&[1]).requires_grad_(true)], 1.0);
/// let mut s = ReduceLrOnPlateau::new(&opt).patience(1);
/// for loss in [1.0, 1.0, 1.0] {
///     s.step(loss);
/// }
/// assert!((opt.lr() - 0.1).abs() < 1e-15); // two epochs without improvement
/// ```
#[derive(Debug, Clone)]
pub struct ReduceLrOnPlateau<T: Float = f32> {
    schedule: Schedule<T>,
    maximize: bool,
    factor: f64,
    patience: usize,
    threshold: f64,
    relative: bool,
    cooldown: usize,
    min_lr: f64,
    eps: f64,
    best: f64,
    num_bad_epochs: usize,
    cooldown_counter: usize,
}

impl<T: Float> ReduceLrOnPlateau<T> {
    /// A plateau schedule with PyTorch's defaults; the builders change them.
    #[track_caller]
    pub fn new(optimizer: &(impl Optimizer<T> + ?Sized)) -> Self {
        or_panic(ReduceLrOnPlateau::try_new(optimizer))
    }

    /// [`ReduceLrOnPlateau::new`], or an error for an optimizer without a shared rate.
    ///
    /// ```
    /// use tapegrad::optim::lr_scheduler::ReduceLrOnPlateau;
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let opt = Sgd::new(vec![Tensor::<f32>::ones(&[1]).requires_grad_(true)], 0.1);
    /// assert_eq!(ReduceLrOnPlateau::try_new(&opt).unwrap().get_last_lr(), 0.1);
    /// ```
    pub fn try_new(optimizer: &(impl Optimizer<T> + ?Sized)) -> Result<Self> {
        let mut schedule = Schedule::new("ReduceLrOnPlateau", optimizer)?;
        schedule.last_epoch = 0;
        Ok(ReduceLrOnPlateau {
            schedule,
            maximize: false,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            relative: true,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
            best: f64::INFINITY,
            num_bad_epochs: 0,
            cooldown_counter: 0,
        })
    }

    /// Watch for a metric that should grow (`mode="max"`), not shrink.
    ///
    /// ```
    /// # use tapegrad::optim::{lr_scheduler::ReduceLrOnPlateau, Sgd};
    /// # let opt = Sgd::new(vec![tapegrad::Tensor::<f32>::ones(&[1]).requires_grad_(true)], 0.1);
    /// let s = ReduceLrOnPlateau::new(&opt).mode_max();
    /// # let _ = s;
    /// ```
    pub fn mode_max(mut self) -> Self {
        self.maximize = true;
        self.best = f64::NEG_INFINITY;
        self
    }

    /// The factor the rate is multiplied by (in `[0, 1)`; default 0.1). Panics otherwise.
    ///
    /// ```
    /// # use tapegrad::optim::{lr_scheduler::ReduceLrOnPlateau, Sgd};
    /// # let opt = Sgd::new(vec![tapegrad::Tensor::<f32>::ones(&[1]).requires_grad_(true)], 0.1);
    /// let s = ReduceLrOnPlateau::new(&opt).factor(0.5);
    /// # let _ = s;
    /// ```
    #[track_caller]
    pub fn factor(mut self, factor: T) -> Self {
        let f = to_f64(factor);
        assert!(
            (0.0..1.0).contains(&f),
            "ReduceLrOnPlateau: factor must be in [0, 1), got {f}"
        );
        self.factor = f;
        self
    }

    /// Epochs without improvement before a cut (default 10).
    ///
    /// ```
    /// # use tapegrad::optim::{lr_scheduler::ReduceLrOnPlateau, Sgd};
    /// # let opt = Sgd::new(vec![tapegrad::Tensor::<f32>::ones(&[1]).requires_grad_(true)], 0.1);
    /// let s = ReduceLrOnPlateau::new(&opt).patience(3);
    /// # let _ = s;
    /// ```
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// The improvement that counts: relative (default, 1e-4) or, with `relative = false`,
    /// absolute.
    ///
    /// ```
    /// # use tapegrad::optim::{lr_scheduler::ReduceLrOnPlateau, Sgd};
    /// # let opt = Sgd::new(vec![tapegrad::Tensor::<f32>::ones(&[1]).requires_grad_(true)], 0.1);
    /// let s = ReduceLrOnPlateau::new(&opt).threshold(0.01, false);
    /// # let _ = s;
    /// ```
    pub fn threshold(mut self, threshold: T, relative: bool) -> Self {
        self.threshold = to_f64(threshold);
        self.relative = relative;
        self
    }

    /// Epochs to wait after a cut before counting again (default 0).
    ///
    /// ```
    /// # use tapegrad::optim::{lr_scheduler::ReduceLrOnPlateau, Sgd};
    /// # let opt = Sgd::new(vec![tapegrad::Tensor::<f32>::ones(&[1]).requires_grad_(true)], 0.1);
    /// let s = ReduceLrOnPlateau::new(&opt).cooldown(2);
    /// # let _ = s;
    /// ```
    pub fn cooldown(mut self, cooldown: usize) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// The rate is never cut below this (default 0).
    ///
    /// ```
    /// # use tapegrad::optim::{lr_scheduler::ReduceLrOnPlateau, Sgd};
    /// # let opt = Sgd::new(vec![tapegrad::Tensor::<f32>::ones(&[1]).requires_grad_(true)], 0.1);
    /// let s = ReduceLrOnPlateau::new(&opt).min_lr(1e-4);
    /// # let _ = s;
    /// ```
    pub fn min_lr(mut self, min_lr: T) -> Self {
        self.min_lr = to_f64(min_lr);
        self
    }

    fn is_better(&self, current: f64) -> bool {
        let t = self.threshold;
        match (self.maximize, self.relative) {
            (false, true) => current < self.best * (1.0 - t),
            (false, false) => current < self.best - t,
            (true, true) => current > self.best * (t + 1.0),
            (true, false) => current > self.best + t,
        }
    }

    /// One epoch with its `metric` (a validation loss, say): cuts the rate after more than
    /// `patience` epochs without improvement.
    pub fn step(&mut self, metric: T) {
        let current = to_f64(metric);
        self.schedule.last_epoch += 1;
        if self.is_better(current) {
            self.best = current;
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs += 1;
        }
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0;
        }
        if self.num_bad_epochs > self.patience {
            let old = self.schedule.lr.get();
            let new = (old * self.factor).max(self.min_lr);
            if old - new > self.eps {
                self.schedule.lr.set(new);
            }
            self.cooldown_counter = self.cooldown;
            self.num_bad_epochs = 0;
        }
        self.schedule.last_lr = self.schedule.lr.get();
    }

    /// The learning rate after the last step.
    pub fn get_last_lr(&self) -> T {
        self.schedule.last()
    }

    fn hyper(&self) -> Vec<(&'static str, Vec<f64>)> {
        vec![
            ("mode_max", vec![f64::from(u8::from(self.maximize))]),
            ("factor", vec![self.factor]),
            ("patience", vec![self.patience as f64]),
            ("threshold", vec![self.threshold]),
            ("threshold_rel", vec![f64::from(u8::from(self.relative))]),
            ("cooldown", vec![self.cooldown as f64]),
            ("min_lrs", vec![self.min_lr]),
            ("eps", vec![self.eps]),
        ]
    }

    /// Its position (best metric, epochs without improvement, cooldown) and settings, as
    /// [`LrScheduler::state_dict`].
    ///
    /// ```
    /// use tapegrad::optim::lr_scheduler::ReduceLrOnPlateau;
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let opt = Sgd::new(vec![Tensor::<f64>::ones(&[1]).requires_grad_(true)], 1.0);
    /// let mut a = ReduceLrOnPlateau::new(&opt).patience(1);
    /// a.step(0.5);
    /// let mut b = ReduceLrOnPlateau::new(&opt).patience(1);
    /// b.load_state_dict(&a.state_dict())?;
    /// assert!(ReduceLrOnPlateau::new(&opt).load_state_dict(&a.state_dict()).is_err()); // patience 10
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn state_dict(&self) -> Vec<(String, DynTensor)> {
        let counters = [
            ("best", self.best),
            ("num_bad_epochs", self.num_bad_epochs as f64),
            ("cooldown_counter", self.cooldown_counter as f64),
        ];
        self.schedule.state(&self.hyper(), &counters)
    }

    /// Resumes from [`state_dict`](Self::state_dict); an error, changing nothing, for
    /// another schedule's state or other settings.
    pub fn load_state_dict(&mut self, state: &[(String, DynTensor)]) -> Result<()> {
        let hyper = self.hyper();
        let v = self.schedule.load(
            "ReduceLrOnPlateau",
            state,
            &hyper,
            &["best", "num_bad_epochs", "cooldown_counter"],
        )?;
        self.best = v[0];
        self.num_bad_epochs = v[1] as usize;
        self.cooldown_counter = v[2] as usize;
        Ok(())
    }
}
