//! Schedules along a curve: `CosineAnnealingLr`, `LinearLr`, `OneCycleLr`.

use super::{check, to_f64, LrScheduler, Schedule};
use crate::element::Float;
use crate::error::{or_panic, Result};
use crate::nn::DynTensor;
use crate::optim::Optimizer;
use std::f64::consts::PI;

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
    ///
    /// ```
    /// use tapegrad::optim::lr_scheduler::CosineAnnealingLr;
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let opt = Sgd::new(vec![Tensor::<f64>::ones(&[1]).requires_grad_(true)], 1.0);
    /// let s = CosineAnnealingLr::new(&opt, 10, 0.0);
    /// assert_eq!(s.get_last_lr(), 1.0);
    /// ```
    ///
    /// ```
    /// use tapegrad::optim::lr_scheduler::LinearLr;
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let opt = Sgd::new(vec![Tensor::<f64>::ones(&[1]).requires_grad_(true)], 1.0);
    /// let s = LinearLr::new(&opt, 0.5, 1.0, 4);
    /// assert_eq!(s.get_last_lr(), 0.5);
    /// ```
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

scheduler_impls!(CosineAnnealingLr, "CosineAnnealingLr::new(&sgd, 10, 0.0)");

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

scheduler_impls!(LinearLr, "LinearLr::new(&sgd, 0.5, 1.0, 4)");

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
    ///
    /// ```
    /// use tapegrad::optim::lr_scheduler::OneCycleLr;
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let opt = Sgd::new(vec![Tensor::<f64>::ones(&[1]).requires_grad_(true)], 1.0);
    /// let s = OneCycleLr::new(&opt, 0.5, 100);
    /// assert!((s.get_last_lr() - 0.02).abs() < 1e-15);
    /// ```
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
