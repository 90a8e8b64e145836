//! Adam and AdamW: one implementation, two places for the weight decay.

use super::checkpoint::{StateReader, StateWriter};
use super::{check_params, check_range, clear_grads, update_in_place, Optimizer, SharedLr};
use crate::element::Float;
use crate::error::{or_panic, Result};
use crate::nn::DynTensor;
use crate::Tensor;

/// The moment estimates of one parameter (created on its first step, as in PyTorch).
#[derive(Debug, Clone)]
struct Moments<T> {
    step: u64,
    exp_avg: Vec<T>,
    exp_avg_sq: Vec<T>,
    /// The running maximum of `exp_avg_sq`, for amsgrad.
    max_exp_avg_sq: Vec<T>,
}

/// Where the weight decay goes: into the gradient (Adam's L2) or onto the parameter
/// directly (AdamW's decoupled decay).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decay {
    L2,
    Decoupled,
}

/// The shared state and algorithm of [`Adam`] and [`AdamW`].
#[derive(Debug)]
struct AdamCore<T: Float> {
    name: &'static str,
    params: Vec<Tensor<T>>,
    state: Vec<Option<Moments<T>>>,
    lr: SharedLr,
    beta1: T,
    beta2: T,
    eps: T,
    weight_decay: T,
    decay: Decay,
    amsgrad: bool,
    maximize: bool,
}

impl<T: Float> AdamCore<T> {
    fn new(
        name: &'static str,
        params: Vec<Tensor<T>>,
        lr: T,
        decay: Decay,
        weight_decay: T,
    ) -> Result<Self> {
        check_params(name, &params, lr)?;
        let constant = |v: f64| T::from(v).unwrap_or_else(T::nan);
        Ok(AdamCore {
            name,
            state: vec![None; params.len()],
            params,
            lr: SharedLr::new(lr.to_f64().unwrap_or(f64::NAN)),
            beta1: constant(0.9),
            beta2: constant(0.999),
            eps: constant(1e-8),
            weight_decay,
            decay,
            amsgrad: false,
            maximize: false,
        })
    }

    fn step(&mut self) {
        // PyTorch computes these scalars in Python floats (f64), then the kernels round
        // them to the tensor's type: do the same so the trajectories agree.
        let f = |v: T| v.to_f64().unwrap_or(f64::NAN);
        let t = |v: f64| T::from(v).unwrap_or_else(T::nan);
        let (lr, beta1, beta2, wd) = (
            self.lr.get(),
            f(self.beta1),
            f(self.beta2),
            f(self.weight_decay),
        );
        let (one_minus_beta1, one_minus_beta2) = (t(1.0 - beta1), t(1.0 - beta2));
        let (beta2_t, eps, wd_t) = (self.beta2, self.eps, self.weight_decay);
        let decoupled_factor = t(1.0 - lr * wd);
        let decay = if wd == 0.0 { None } else { Some(self.decay) };
        let (amsgrad, maximize) = (self.amsgrad, self.maximize);

        for (param, slot) in self.params.iter().zip(&mut self.state) {
            let Some(grad) = param.grad() else { continue };
            update_in_place(param, &grad, |theta, grads| {
                let n = theta.len();
                let state = slot.get_or_insert_with(|| Moments {
                    step: 0,
                    exp_avg: vec![T::zero(); n],
                    exp_avg_sq: vec![T::zero(); n],
                    max_exp_avg_sq: if amsgrad {
                        vec![T::zero(); n]
                    } else {
                        Vec::new()
                    },
                });
                state.step += 1;
                let step = state.step as f64;
                let bias_correction1 = 1.0 - beta1.powf(step);
                let bias_correction2_sqrt = t((1.0 - beta2.powf(step)).sqrt());
                let neg_step_size = t(-(lr / bias_correction1));
                let k = Scalars {
                    sign: if maximize { -T::one() } else { T::one() },
                    weight_decay: wd_t,
                    decoupled_factor,
                    one_minus_beta1,
                    beta2: beta2_t,
                    one_minus_beta2,
                    bias_correction2_sqrt,
                    eps,
                    neg_step_size,
                };
                let b = Buffers {
                    theta,
                    grads,
                    m: &mut state.exp_avg,
                    v: &mut state.exp_avg_sq,
                    v_max: &mut state.max_exp_avg_sq,
                };
                // One loop per configuration, so each compiles to straight-line SIMD code.
                match (decay, amsgrad) {
                    (None, false) => dispatch::<T, NO_DECAY, false>(b, &k),
                    (None, true) => dispatch::<T, NO_DECAY, true>(b, &k),
                    (Some(Decay::L2), false) => dispatch::<T, L2, false>(b, &k),
                    (Some(Decay::L2), true) => dispatch::<T, L2, true>(b, &k),
                    (Some(Decay::Decoupled), false) => dispatch::<T, DECOUPLED, false>(b, &k),
                    (Some(Decay::Decoupled), true) => dispatch::<T, DECOUPLED, true>(b, &k),
                }
            });
        }
    }

    fn zero_grad(&mut self) {
        clear_grads(&self.params);
    }

    fn state_dict(&self) -> Vec<(String, DynTensor)> {
        let mut w = StateWriter::new(&self.params);
        w.hyper("lr", self.lr.get());
        w.pair("betas", [self.beta1, self.beta2]);
        w.hyper("eps", self.eps);
        w.hyper("weight_decay", self.weight_decay);
        w.flag("amsgrad", self.amsgrad);
        w.flag("maximize", self.maximize);
        w.flag("decoupled_weight_decay", self.decay == Decay::Decoupled);
        for (i, slot) in self.state.iter().enumerate() {
            if let Some(m) = slot {
                w.step(i, m.step);
                w.state(i, "exp_avg", &m.exp_avg);
                w.state(i, "exp_avg_sq", &m.exp_avg_sq);
                if !m.max_exp_avg_sq.is_empty() {
                    w.state(i, "max_exp_avg_sq", &m.max_exp_avg_sq);
                }
            }
        }
        w.finish()
    }

    fn load_state_dict(&mut self, state: &[(String, DynTensor)]) -> Result<()> {
        let r = StateReader::new(self.name, state, &self.params, &["betas"])?;
        if r.flag("decoupled_weight_decay")? != (self.decay == Decay::Decoupled) {
            return Err(r.error(format!(
                "the checkpoint is for {}, not {}",
                if self.decay == Decay::Decoupled {
                    "Adam"
                } else {
                    "AdamW"
                },
                self.name
            )));
        }
        let lr: f64 = r.hyper("lr")?;
        super::check_lr(self.name, lr)?;
        let [beta1, beta2] = r.pair("betas")?;
        let (eps, weight_decay) = (r.hyper("eps")?, r.hyper("weight_decay")?);
        let (amsgrad, maximize) = (r.flag("amsgrad")?, r.flag("maximize")?);
        let mut moments = Vec::with_capacity(self.params.len());
        for i in 0..self.params.len() {
            let step = r.step(i)?;
            let exp_avg = r.state(i, "exp_avg")?;
            let exp_avg_sq = r.state(i, "exp_avg_sq")?;
            let max_exp_avg_sq = r.state(i, "max_exp_avg_sq")?;
            moments.push(match (step, exp_avg, exp_avg_sq) {
                (None, None, None) => None,
                (Some(_), Some(_), Some(_)) if amsgrad && max_exp_avg_sq.is_none() => {
                    return Err(r.error(format!(
                        "amsgrad is on but parameter {i} has no max_exp_avg_sq"
                    )))
                }
                (Some(step), Some(exp_avg), Some(exp_avg_sq)) => Some(Moments {
                    step,
                    exp_avg,
                    exp_avg_sq,
                    max_exp_avg_sq: max_exp_avg_sq.unwrap_or_default(),
                }),
                _ => {
                    return Err(r.error(format!(
                        "parameter {i} has only part of its state (step, exp_avg, exp_avg_sq)"
                    )))
                }
            });
        }
        r.no_other_names()?;
        // Everything checked: now change.
        self.lr.set(lr);
        (self.beta1, self.beta2, self.eps, self.weight_decay) = (beta1, beta2, eps, weight_decay);
        (self.amsgrad, self.maximize) = (amsgrad, maximize);
        self.state = moments;
        Ok(())
    }
}

/// One step's constants, already rounded to `T`.
struct Scalars<T> {
    sign: T,
    weight_decay: T,
    decoupled_factor: T,
    one_minus_beta1: T,
    beta2: T,
    one_minus_beta2: T,
    bias_correction2_sqrt: T,
    eps: T,
    neg_step_size: T,
}

/// One parameter's values and gradient, and its moment estimates (`v_max` is empty
/// unless amsgrad).
struct Buffers<'a, T> {
    theta: &'a mut [T],
    grads: &'a [T],
    m: &'a mut [T],
    v: &'a mut [T],
    v_max: &'a mut [T],
}

const NO_DECAY: u8 = 0;
const L2: u8 = 1;
const DECOUPLED: u8 = 2;

/// [`update`] over pieces of a large parameter, one per thread (above
/// [`PARALLEL_ELEMENTS`](crate::array::PARALLEL_ELEMENTS), as elementwise ops split):
/// every element's update is its own, so the bits do not depend on the thread count.
fn dispatch<T: Float, const DECAY: u8, const AMSGRAD: bool>(b: Buffers<'_, T>, k: &Scalars<T>) {
    let n = b.theta.len();
    // The size first: a small parameter (the lecture's) never reads the thread setting.
    let threads = if n < crate::array::PARALLEL_ELEMENTS {
        1
    } else {
        crate::array::num_threads()
    };
    if threads < 2 {
        return dispatch_piece::<T, DECAY, AMSGRAD>(b, k);
    }
    // Pieces of whole cache lines (16 f32), so no two threads write one line.
    let piece = n.div_ceil(threads).next_multiple_of(16);
    let Buffers {
        theta,
        grads,
        m,
        v,
        v_max,
    } = b;
    let mut v_max = v_max.chunks_mut(if AMSGRAD { piece } else { 1 });
    let pieces = theta
        .chunks_mut(piece)
        .zip(grads.chunks(piece))
        .zip(m.chunks_mut(piece))
        .zip(v.chunks_mut(piece))
        .map(|(((theta, grads), m), v)| Buffers {
            theta,
            grads,
            m,
            v,
            v_max: if AMSGRAD {
                v_max.next().unwrap_or_default()
            } else {
                Default::default()
            },
        });
    crate::array::fork::fork_join(pieces, |b| dispatch_piece::<T, DECAY, AMSGRAD>(b, k));
}

/// [`update`], with AVX-512 where the CPU has it (detected at run time; the same IEEE
/// operations in the same order, so the same results, 16 f32 lanes at a time).
#[inline(always)]
fn dispatch_piece<T: Float, const DECAY: u8, const AMSGRAD: bool>(
    b: Buffers<'_, T>,
    k: &Scalars<T>,
) {
    #[cfg(target_arch = "x86_64")]
    if b.theta.len() >= 64 && std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU supports AVX-512F, checked just above.
        return unsafe { update_avx512::<T, DECAY, AMSGRAD>(b, k) };
    }
    update::<T, DECAY, AMSGRAD>(b, k)
}

/// # Safety
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn update_avx512<T: Float, const DECAY: u8, const AMSGRAD: bool>(
    b: Buffers<'_, T>,
    k: &Scalars<T>,
) {
    update::<T, DECAY, AMSGRAD>(b, k)
}

/// The algorithm box for every element, in the order of PyTorch's single-tensor code:
/// decay, `m.lerp_(g, 1-β1)`, `v.mul_(β2).addcmul_(g, g, 1-β2)`, the amsgrad maximum,
/// `denom = √v / √bc2 + ε`, `θ.addcdiv_(m, denom, -lr/bc1)`.
#[inline(always)]
fn update<T: Float, const DECAY: u8, const AMSGRAD: bool>(b: Buffers<'_, T>, k: &Scalars<T>) {
    let Buffers {
        theta,
        grads,
        m,
        v,
        v_max,
    } = b;
    let n = theta.len();
    // Equal lengths up front let the compiler drop the bounds checks and vectorise.
    let (grads, m, v) = (&grads[..n], &mut m[..n], &mut v[..n]);
    let v_max = if AMSGRAD { &mut v_max[..n] } else { v_max };
    let small_weight = k.one_minus_beta1.abs() < T::from(0.5).unwrap_or_else(T::nan);
    for i in 0..n {
        let mut g = grads[i] * k.sign;
        if DECAY == L2 {
            g = g + k.weight_decay * theta[i];
        } else if DECAY == DECOUPLED {
            theta[i] = theta[i] * k.decoupled_factor;
        }
        m[i] = lerp(m[i], g, k.one_minus_beta1, small_weight);
        v[i] = v[i] * k.beta2 + k.one_minus_beta2 * g * g;
        let second = if AMSGRAD {
            v_max[i] = v_max[i].max(v[i]);
            v_max[i]
        } else {
            v[i]
        };
        let denom = second.sqrt() / k.bias_correction2_sqrt + k.eps;
        theta[i] = theta[i] + k.neg_step_size * m[i] / denom;
    }
}

/// `a + w (b - a)`, written as PyTorch's `lerp` kernel writes it (the form depends on `w`).
#[inline(always)]
fn lerp<T: Float>(a: T, b: T, w: T, small_weight: bool) -> T {
    if small_weight {
        a + w * (b - a)
    } else {
        b - (b - a) * (T::one() - w)
    }
}

/// The constructors, builder methods and accessors Adam and AdamW share; they differ only
/// in where the weight decay goes and its default.
macro_rules! adam_builders {
    ($ty:ident, $decay:expr, $weight_decay:literal, $defaults:literal) => {
        impl<T: Float> $ty<T> {
            ///
            /// ```
            /// use tapegrad::optim::Adam;
            /// use tapegrad::Tensor;
            /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
            /// let adam = Adam::new(vec![w], 1e-3);
            /// assert_eq!(adam.lr(), 1e-3);
            /// ```
            #[doc = concat!(stringify!($ty), " over `params` with learning rate `lr`, betas (0.9, 0.999), eps 1e-8 and ", $defaults, ".")]
            #[doc = concat!("Panics with [`", stringify!($ty), "::try_new`]'s error for a negative `lr`, a non-leaf tensor, or the same tensor twice.")]
            #[track_caller]
            pub fn new(params: Vec<Tensor<T>>, lr: T) -> Self {
                or_panic($ty::try_new(params, lr))
            }

            ///
            /// ```
            /// use tapegrad::optim::Adam;
            /// use tapegrad::Tensor;
            /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
            /// assert!(Adam::try_new(vec![w], f32::NAN).is_err());
            /// ```
            #[doc = concat!("[`", stringify!($ty), "::new`] returning an error instead of panicking.")]
            pub fn try_new(params: Vec<Tensor<T>>, lr: T) -> Result<Self> {
                let weight_decay = T::from($weight_decay).unwrap_or_else(T::nan);
                Ok($ty(AdamCore::new(stringify!($ty), params, lr, $decay, weight_decay)?))
            }

            /// Coefficients β1, β2 of the running averages of the gradient and its square
            /// (default 0.9, 0.999). Panics unless both are in `[0, 1)`.
            ///
            /// ```
            /// use tapegrad::optim::Adam;
            /// use tapegrad::Tensor;
            /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
            /// let _adam = Adam::new(vec![w], 1e-3).betas(0.8, 0.99);
            /// ```
            #[track_caller]
            pub fn betas(mut self, beta1: T, beta2: T) -> Self {
                let name = self.0.name;
                check_range(
                    name,
                    "beta1",
                    beta1,
                    beta1 >= T::zero() && beta1 < T::one(),
                    "in [0, 1)",
                );
                check_range(
                    name,
                    "beta2",
                    beta2,
                    beta2 >= T::zero() && beta2 < T::one(),
                    "in [0, 1)",
                );
                (self.0.beta1, self.0.beta2) = (beta1, beta2);
                self
            }

            /// The term added to the denominator (default 1e-8). Panics if negative.
            ///
            /// ```
            /// use tapegrad::optim::Adam;
            /// use tapegrad::Tensor;
            /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
            /// let _adam = Adam::new(vec![w], 1e-3).eps(1e-6);
            /// ```
            #[track_caller]
            pub fn eps(mut self, eps: T) -> Self {
                check_range(self.0.name, "eps", eps, eps >= T::zero(), ">= 0");
                self.0.eps = eps;
                self
            }

            /// The weight decay λ. Panics if negative.
            ///
            /// ```
            /// use tapegrad::optim::Adam;
            /// use tapegrad::Tensor;
            /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
            /// let _adam = Adam::new(vec![w], 1e-3).weight_decay(1e-2);
            /// ```
            #[track_caller]
            pub fn weight_decay(mut self, weight_decay: T) -> Self {
                check_range(
                    self.0.name,
                    "weight_decay",
                    weight_decay,
                    weight_decay >= T::zero(),
                    ">= 0",
                );
                self.0.weight_decay = weight_decay;
                self
            }

            /// The AMSGrad variant: divide by the running maximum of the second moment
            /// (default off).
            ///
            /// ```
            /// use tapegrad::optim::Adam;
            /// use tapegrad::Tensor;
            /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
            /// let _adam = Adam::new(vec![w], 1e-3).amsgrad(true);
            /// ```
            pub fn amsgrad(mut self, amsgrad: bool) -> Self {
                self.0.amsgrad = amsgrad;
                self
            }

            /// Ascend instead of descend (default off).
            ///
            /// ```
            /// use tapegrad::optim::Adam;
            /// use tapegrad::Tensor;
            /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
            /// let _adam = Adam::new(vec![w], 1e-3).maximize(true);
            /// ```
            pub fn maximize(mut self, maximize: bool) -> Self {
                self.0.maximize = maximize;
                self
            }

            /// The learning rate.
            ///
            /// ```
            /// use tapegrad::optim::Adam;
            /// use tapegrad::Tensor;
            /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
            /// assert_eq!(Adam::new(vec![w], 0.5).lr(), 0.5);
            /// ```
            pub fn lr(&self) -> T {
                self.0.lr.get_as()
            }

            /// Changes the learning rate for the following steps (for a schedule). Panics
            /// for a negative, NaN or infinite rate.
            ///
            /// ```
            /// use tapegrad::optim::Adam;
            /// use tapegrad::Tensor;
            /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
            /// let mut adam = Adam::new(vec![w], 0.5);
            /// adam.set_lr(0.25);
            /// assert_eq!(adam.lr(), 0.25);
            /// ```
            #[track_caller]
            pub fn set_lr(&mut self, lr: T) {
                or_panic(self.try_set_lr(lr))
            }

            ///
            /// ```
            /// use tapegrad::optim::Adam;
            /// use tapegrad::Tensor;
            /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
            /// let mut adam = Adam::new(vec![w], 0.5);
            /// assert!(adam.try_set_lr(-1.0).is_err());
            /// ```
            #[doc = concat!("[`", stringify!($ty), "::set_lr`] returning an error (and keeping the old rate) instead of panicking.")]
            pub fn try_set_lr(&mut self, lr: T) -> Result<()> {
                super::check_lr(self.0.name, lr)?;
                self.0.lr.set(lr.to_f64().unwrap_or(f64::NAN));
                Ok(())
            }

            /// The parameters, in the order given.
            ///
            /// ```
            /// use tapegrad::optim::Adam;
            /// use tapegrad::Tensor;
            /// let w: Tensor = Tensor::ones(&[2]).requires_grad_(true);
            /// assert_eq!(Adam::new(vec![w], 0.5).params().len(), 1);
            /// ```
            pub fn params(&self) -> &[Tensor<T>] {
                &self.0.params
            }
        }

        impl<T: Float> Optimizer<T> for $ty<T> {
            fn step(&mut self) {
                self.0.step()
            }
            fn zero_grad(&mut self) {
                self.0.zero_grad()
            }
            fn lr(&self) -> T {
                $ty::lr(self)
            }
            fn try_set_lr(&mut self, lr: T) -> Result<()> {
                $ty::try_set_lr(self, lr)
            }
            fn shared_lr(&self) -> Option<SharedLr> {
                Some(self.0.lr.clone())
            }
            fn state_dict(&self) -> Result<Vec<(String, DynTensor)>> {
                Ok(self.0.state_dict())
            }
            fn load_state_dict(&mut self, state: &[(String, DynTensor)]) -> Result<()> {
                self.0.load_state_dict(state)
            }
        }
    };
}

/// Adam, like `torch.optim.Adam`. PyTorch's algorithm box, for each parameter θ with
/// gradient g at step t (skipping parameters without a gradient):
///
/// ```text
/// g ← g + λθ                         if weight_decay λ ≠ 0 (L2, added to the gradient)
/// m ← β1 m + (1 - β1) g
/// v ← β2 v + (1 - β2) g²
/// v_max ← max(v_max, v)              if amsgrad, and v_max is used for v below
/// θ ← θ - γ/(1 - β1^t) · m / (√v / √(1 - β2^t) + ε)
/// ```
///
/// ```
/// use tapegrad::optim::{Adam, Optimizer};
/// use tapegrad::Tensor;
/// let w: Tensor<f64> = Tensor::from_vec(vec![1.0, -2.0], &[2]).requires_grad_(true);
/// let mut adam = Adam::new(vec![w.clone()], 0.1);
/// (&w * &w).sum().backward();
/// adam.step(); // the first step moves each weight by about lr, against its gradient's sign
/// let moved = w.to_vec();
/// assert!((moved[0] - 0.9).abs() < 1e-6 && (moved[1] + 1.9).abs() < 1e-6);
/// ```
#[derive(Debug)]
pub struct Adam<T: Float = f32>(AdamCore<T>);

adam_builders!(Adam, Decay::L2, 0.0, "no weight decay");

/// AdamW, like `torch.optim.AdamW`: Adam with decoupled weight decay. Instead of adding λθ
/// to the gradient, each step first shrinks the parameter, `θ ← θ(1 - γλ)`, then takes the
/// Adam step without any decay. The default weight decay is 0.01, as in PyTorch.
///
/// ```
/// use tapegrad::optim::{AdamW, Optimizer};
/// use tapegrad::Tensor;
/// let w: Tensor = Tensor::ones(&[1]).requires_grad_(true);
/// let mut opt = AdamW::new(vec![w.clone()], 0.1);
/// (&w * 0.0).sum().backward(); // a zero gradient: only the decay acts
/// opt.step();
/// assert!((w.item() - (1.0 - 0.1 * 0.01)).abs() < 1e-6);
/// ```
#[derive(Debug)]
pub struct AdamW<T: Float = f32>(AdamCore<T>);

adam_builders!(AdamW, Decay::Decoupled, 0.01, "weight decay 0.01");
