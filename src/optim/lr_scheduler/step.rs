//! Schedules that multiply the rate by a factor: `StepLr`, `MultiStepLr`, `ExponentialLr`.

use super::{check, to_f64, LrScheduler, Schedule};
use crate::element::Float;
use crate::error::{or_panic, Result};
use crate::nn::DynTensor;
use crate::optim::Optimizer;

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
    ///
    /// ```
    /// use tapegrad::optim::lr_scheduler::StepLr;
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let opt = Sgd::new(vec![Tensor::<f64>::ones(&[1]).requires_grad_(true)], 1.0);
    /// let s = StepLr::new(&opt, 5, 0.1);
    /// assert_eq!(s.get_last_lr(), 1.0);
    /// ```
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

scheduler_impls!(StepLr, "StepLr::new(&sgd, 2, 0.5)");

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
    ///
    /// ```
    /// use tapegrad::optim::lr_scheduler::MultiStepLr;
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let opt = Sgd::new(vec![Tensor::<f64>::ones(&[1]).requires_grad_(true)], 1.0);
    /// let s = MultiStepLr::new(&opt, &[5, 8], 0.1);
    /// assert_eq!(s.get_last_lr(), 1.0);
    /// ```
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

scheduler_impls!(MultiStepLr, "MultiStepLr::new(&sgd, &[1, 3], 0.5)");

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
    ///
    /// ```
    /// use tapegrad::optim::lr_scheduler::ExponentialLr;
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let opt = Sgd::new(vec![Tensor::<f64>::ones(&[1]).requires_grad_(true)], 1.0);
    /// let s = ExponentialLr::new(&opt, 0.9);
    /// assert_eq!(s.get_last_lr(), 1.0);
    /// ```
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

scheduler_impls!(ExponentialLr, "ExponentialLr::new(&sgd, 0.9)");
