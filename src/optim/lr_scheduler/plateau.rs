//! `ReduceLrOnPlateau`: a schedule driven by a metric.

use super::{to_f64, Schedule};
use crate::element::Float;
use crate::error::{or_panic, Result};
use crate::nn::DynTensor;
use crate::optim::Optimizer;

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
    ///
    /// ```
    /// use tapegrad::optim::lr_scheduler::ReduceLrOnPlateau;
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let opt = Sgd::new(vec![Tensor::<f64>::ones(&[1]).requires_grad_(true)], 1.0);
    /// let s = ReduceLrOnPlateau::new(&opt);
    /// assert_eq!(s.get_last_lr(), 1.0);
    /// ```
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
    /// [`LrScheduler::state_dict`](super::LrScheduler::state_dict).
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
