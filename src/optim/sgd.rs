//! Stochastic gradient descent with momentum, dampening, Nesterov and weight decay.

use super::checkpoint::{StateReader, StateWriter};
use super::{check_params, check_range, clear_grads, update_in_place, Optimizer, SharedLr};
use crate::element::Float;
use crate::error::{or_panic, Result};
use crate::nn::DynTensor;
use crate::Tensor;

/// Stochastic gradient descent, like `torch.optim.SGD`. PyTorch's algorithm box, for each
/// parameter θ with gradient g (skipping parameters without one):
///
/// ```text
/// g ← g + λθ                                   if weight_decay λ ≠ 0
/// if momentum μ ≠ 0:
///     b ← g                    on the first step
///     b ← μb + (1 - τ)g        after it        (τ: dampening)
///     g ← g + μb  if nesterov, else g ← b
/// θ ← θ - γg                                   (γ: lr; + γg if maximize)
/// ```
///
/// ```
/// use tapegrad::optim::{Optimizer, Sgd};
/// use tapegrad::Tensor;
/// let w: Tensor = Tensor::from_vec(vec![1.0, 2.0], &[2]).requires_grad_(true);
/// let mut sgd = Sgd::new(vec![w.clone()], 0.1).momentum(0.9);
/// (&w * &w).sum().backward(); // gradient 2w = [2, 4]
/// sgd.step();
/// assert_eq!(w.to_vec(), vec![0.8, 1.6]);
/// ```
#[derive(Debug)]
pub struct Sgd<T: Float = f32> {
    params: Vec<Tensor<T>>,
    momentum_buffers: Vec<Option<Vec<T>>>,
    lr: SharedLr,
    momentum: T,
    dampening: T,
    nesterov: bool,
    weight_decay: T,
    maximize: bool,
}

impl<T: Float> Sgd<T> {
    /// Plain SGD over `params` with learning rate `lr`; the builder methods add the rest.
    /// Panics with [`Sgd::try_new`]'s error for a negative `lr`, a non-leaf tensor, or the
    /// same tensor twice.
    ///
    /// ```
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
    /// let sgd = Sgd::new(vec![w], 0.1);
    /// assert_eq!(sgd.lr(), 0.1);
    /// ```
    #[track_caller]
    pub fn new(params: Vec<Tensor<T>>, lr: T) -> Self {
        or_panic(Sgd::try_new(params, lr))
    }

    /// [`Sgd::new`] returning an error instead of panicking.
    ///
    /// ```
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
    /// assert!(Sgd::try_new(vec![w], -1.0).is_err());
    /// ```
    pub fn try_new(params: Vec<Tensor<T>>, lr: T) -> Result<Self> {
        check_params("Sgd", &params, lr)?;
        Ok(Sgd {
            momentum_buffers: vec![None; params.len()],
            params,
            lr: SharedLr::new(lr.to_f64().unwrap_or(f64::NAN)),
            momentum: T::zero(),
            dampening: T::zero(),
            nesterov: false,
            weight_decay: T::zero(),
            maximize: false,
        })
    }

    /// Momentum factor μ (default 0). Panics if negative, or if `nesterov` is on and the
    /// momentum is 0.
    ///
    /// ```
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
    /// let _sgd = Sgd::new(vec![w], 0.1).momentum(0.9);
    /// ```
    #[track_caller]
    pub fn momentum(mut self, momentum: T) -> Self {
        check_range("Sgd", "momentum", momentum, momentum >= T::zero(), ">= 0");
        self.momentum = momentum;
        self.check_nesterov();
        self
    }

    /// Dampening τ for momentum (default 0). Panics if not finite, or if `nesterov` is on
    /// and the dampening is not 0.
    ///
    /// ```
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
    /// let _sgd = Sgd::new(vec![w], 0.1).momentum(0.9).dampening(0.1);
    /// ```
    #[track_caller]
    pub fn dampening(mut self, dampening: T) -> Self {
        check_range(
            "Sgd",
            "dampening",
            dampening,
            dampening.is_finite(),
            "finite",
        );
        self.dampening = dampening;
        self.check_nesterov();
        self
    }

    /// Nesterov momentum (default off). It needs a momentum > 0 and zero dampening, as in
    /// PyTorch: set the momentum first (`.momentum(0.9).nesterov(true)`); a configuration
    /// without them panics here, when it is made, not at the first `step`.
    ///
    /// ```
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::zeros(&[2]).requires_grad_(true);
    /// let _ok = Sgd::new(vec![w.clone()], 0.1).momentum(0.9).nesterov(true);
    /// let refused = std::panic::catch_unwind(|| Sgd::new(vec![w], 0.1).nesterov(true));
    /// assert!(refused.is_err());
    /// ```
    #[track_caller]
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self.check_nesterov();
        self
    }

    #[track_caller]
    fn check_nesterov(&self) {
        assert!(
            !self.nesterov || (self.momentum > T::zero() && self.dampening == T::zero()),
            "Sgd: nesterov momentum requires a momentum > 0 and zero dampening (set the momentum \
             before nesterov)"
        );
    }

    /// L2 penalty λ added to the gradient (default 0). Panics if negative.
    ///
    /// ```
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
    /// let _sgd = Sgd::new(vec![w], 0.1).weight_decay(1e-4);
    /// ```
    #[track_caller]
    pub fn weight_decay(mut self, weight_decay: T) -> Self {
        check_range(
            "Sgd",
            "weight_decay",
            weight_decay,
            weight_decay >= T::zero(),
            ">= 0",
        );
        self.weight_decay = weight_decay;
        self
    }

    /// Ascend instead of descend (default off).
    ///
    /// ```
    /// use tapegrad::optim::{Optimizer, Sgd};
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::ones(&[1]).requires_grad_(true);
    /// let mut sgd = Sgd::new(vec![w.clone()], 0.5).maximize(true);
    /// w.sum().backward();
    /// sgd.step();
    /// assert_eq!(w.item(), 1.5); // climbed the gradient
    /// ```
    pub fn maximize(mut self, maximize: bool) -> Self {
        self.maximize = maximize;
        self
    }

    /// The learning rate.
    ///
    /// ```
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
    /// assert_eq!(Sgd::new(vec![w], 0.25).lr(), 0.25);
    /// ```
    pub fn lr(&self) -> T {
        self.lr.get_as()
    }

    /// Changes the learning rate for the following steps (for a schedule). Panics with
    /// [`Sgd::try_set_lr`]'s error for a negative, NaN or infinite rate.
    ///
    /// ```
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
    /// let mut sgd = Sgd::new(vec![w], 0.1);
    /// sgd.set_lr(0.05);
    /// assert_eq!(sgd.lr(), 0.05);
    /// ```
    #[track_caller]
    pub fn set_lr(&mut self, lr: T) {
        or_panic(self.try_set_lr(lr))
    }

    /// [`Sgd::set_lr`] returning an error (and keeping the old rate) instead of panicking.
    ///
    /// ```
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let mut sgd = Sgd::new(vec![Tensor::<f32>::zeros(&[1]).requires_grad_(true)], 0.1);
    /// assert!(sgd.try_set_lr(f32::INFINITY).is_err());
    /// assert_eq!(sgd.lr(), 0.1);
    /// ```
    pub fn try_set_lr(&mut self, lr: T) -> Result<()> {
        super::check_lr("Sgd", lr)?;
        self.lr.set(lr.to_f64().unwrap_or(f64::NAN));
        Ok(())
    }

    /// The parameters, in the order given.
    ///
    /// ```
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
    /// assert_eq!(Sgd::new(vec![w], 0.1).params().len(), 1);
    /// ```
    pub fn params(&self) -> &[Tensor<T>] {
        &self.params
    }
}

impl<T: Float> Optimizer<T> for Sgd<T> {
    #[track_caller]
    fn step(&mut self) {
        let (lr, mu, wd) = (self.lr.get_as::<T>(), self.momentum, self.weight_decay);
        let one_minus_dampening = T::one() - self.dampening;
        for (param, buffer) in self.params.iter().zip(&mut self.momentum_buffers) {
            let Some(grad) = param.grad() else { continue };
            update_in_place(param, &grad, |theta, grads| {
                let direction = |p: T, g: T| {
                    let d = if self.maximize { -g } else { g };
                    if wd != T::zero() {
                        d + wd * p
                    } else {
                        d
                    }
                };
                if mu == T::zero() {
                    for (p, &g) in theta.iter_mut().zip(grads) {
                        *p = *p + (-lr) * direction(*p, g);
                    }
                    return;
                }
                let first = buffer.is_none();
                let buf = buffer.get_or_insert_with(|| vec![T::zero(); theta.len()]);
                for ((p, &g), b) in theta.iter_mut().zip(grads).zip(buf.iter_mut()) {
                    let d = direction(*p, g);
                    *b = if first {
                        d
                    } else {
                        *b * mu + one_minus_dampening * d
                    };
                    let d = if self.nesterov { d + mu * *b } else { *b };
                    *p = *p + (-lr) * d;
                }
            });
        }
    }

    fn zero_grad(&mut self) {
        clear_grads(&self.params);
    }
    fn lr(&self) -> T {
        Sgd::lr(self)
    }
    fn try_set_lr(&mut self, lr: T) -> Result<()> {
        Sgd::try_set_lr(self, lr)
    }
    fn shared_lr(&self) -> Option<SharedLr> {
        Some(self.lr.clone())
    }
    fn state_dict(&self) -> Result<Vec<(String, DynTensor)>> {
        let mut w = StateWriter::new(&self.params);
        w.hyper("lr", self.lr.get());
        w.hyper("momentum", self.momentum);
        w.hyper("dampening", self.dampening);
        w.hyper("weight_decay", self.weight_decay);
        w.flag("nesterov", self.nesterov);
        w.flag("maximize", self.maximize);
        for (i, buffer) in self.momentum_buffers.iter().enumerate() {
            if let Some(b) = buffer {
                w.state(i, "momentum_buffer", b);
            }
        }
        Ok(w.finish())
    }
    fn load_state_dict(&mut self, state: &[(String, DynTensor)]) -> Result<()> {
        let r = StateReader::new("Sgd", state, &self.params, &["momentum", "nesterov"])?;
        let lr: f64 = r.hyper("lr")?;
        super::check_lr("Sgd", lr)?;
        let (momentum, dampening, weight_decay): (T, T, T) = (
            r.hyper("momentum")?,
            r.hyper("dampening")?,
            r.hyper("weight_decay")?,
        );
        let (nesterov, maximize) = (r.flag("nesterov")?, r.flag("maximize")?);
        let buffers = (0..self.params.len())
            .map(|i| r.state(i, "momentum_buffer"))
            .collect::<Result<Vec<_>>>()?;
        r.no_other_names()?;
        // Everything checked: now change.
        self.lr.set(lr);
        (self.momentum, self.dampening, self.weight_decay) = (momentum, dampening, weight_decay);
        (self.nesterov, self.maximize) = (nesterov, maximize);
        self.momentum_buffers = buffers;
        Ok(())
    }
}
