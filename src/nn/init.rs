//! `nn::init`: PyTorch's initialisations, drawn from tapegrad's seeded generator
//! (`manual_seed`). Each fills a tensor in place (a parameter included: the fill is not
//! recorded) and returns it, like `torch.nn.init`.
//!
//! The fans are PyTorch's: for a weight of shape `[out, in, k...]`, `fan_in = in · Πk` and
//! `fan_out = out · Πk`; a tensor of fewer than 2 dims has none (an error).

use crate::autograd::no_grad;
use crate::element::Float;
use crate::error::{or_panic, Error, Result};
use crate::tensor::Tensor;

/// Which fan scales a Kaiming initialisation: `FanIn` keeps the forward pass's variance,
/// `FanOut` the backward pass's.
///
/// ```
/// use tapegrad::nn::init::{try_kaiming_normal_, FanMode, Nonlinearity};
/// use tapegrad::Tensor;
/// let w: Tensor<f64> = Tensor::zeros(&[400, 100]); // fan_in 100, fan_out 400
/// try_kaiming_normal_(&w, FanMode::FanOut, Nonlinearity::Relu).unwrap();
/// assert!((w.std().item() - (2.0f64 / 400.0).sqrt()).abs() < 0.002);
/// assert_eq!(FanMode::default(), FanMode::FanIn);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FanMode {
    /// The weight's inputs (`in · Πk`), PyTorch's default.
    #[default]
    FanIn,
    /// The weight's outputs (`out · Πk`).
    FanOut,
}

/// The nonlinearity a gain is for (`torch.nn.init.calculate_gain`).
///
/// ```
/// use tapegrad::nn::init::{calculate_gain, Nonlinearity};
/// assert_eq!(calculate_gain(Nonlinearity::Tanh), 5.0 / 3.0);
/// assert_eq!(calculate_gain(Nonlinearity::Selu), 0.75);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Nonlinearity {
    /// Linear, convolutions, sigmoid: 1.
    Linear,
    /// 5/3.
    Tanh,
    /// √2.
    Relu,
    /// √(2 / (1 + slope²)).
    LeakyRelu(f64),
    /// 3/4.
    Selu,
}

/// The recommended gain for `nonlinearity`, like `torch.nn.init.calculate_gain`.
///
/// ```
/// use tapegrad::nn::init::{calculate_gain, Nonlinearity};
/// assert_eq!(calculate_gain(Nonlinearity::Relu), 2f64.sqrt());
/// assert_eq!(calculate_gain(Nonlinearity::LeakyRelu(0.0)), 2f64.sqrt());
/// ```
pub fn calculate_gain(nonlinearity: Nonlinearity) -> f64 {
    match nonlinearity {
        Nonlinearity::Linear => 1.0,
        Nonlinearity::Tanh => 5.0 / 3.0,
        Nonlinearity::Relu => 2f64.sqrt(),
        Nonlinearity::LeakyRelu(slope) => (2.0 / (1.0 + slope * slope)).sqrt(),
        Nonlinearity::Selu => 0.75,
    }
}

/// `(fan_in, fan_out)` of a weight, or an error naming `op` for fewer than 2 dims.
///
/// ```
/// use tapegrad::nn::init::fans;
/// use tapegrad::Tensor;
/// assert_eq!(fans(&Tensor::<f32>::zeros(&[6, 3, 5, 5])).unwrap(), (75, 150));
/// assert!(fans(&Tensor::<f32>::zeros(&[6])).is_err());
/// ```
pub fn fans<T: Float>(t: &Tensor<T>) -> Result<(usize, usize)> {
    fans_for("fans", t)
}

fn fans_for<T: Float>(op: &'static str, t: &Tensor<T>) -> Result<(usize, usize)> {
    let shape = t.shape();
    if shape.len() < 2 {
        return Err(Error::shape(
            op,
            format!(
                "fan in and fan out cannot be computed for a tensor of fewer than 2 dims \
                 (shape {shape:?})"
            ),
        ));
    }
    let receptive: usize = shape[2..].iter().product();
    Ok((shape[1] * receptive, shape[0] * receptive))
}

fn scalar<T: Float>(v: f64) -> T {
    T::from(v).unwrap_or_else(T::nan)
}

/// Copies `values` into `t` without recording it.
fn fill_from<T: Float>(t: &Tensor<T>, values: &Tensor<T>) -> Tensor<T> {
    no_grad(|| t.copy_(values));
    t.clone()
}

/// Fills `t` from U(low, high), like `torch.nn.init.uniform_`.
///
/// ```
/// use tapegrad::nn::init::uniform_;
/// use tapegrad::Tensor;
/// let w: Tensor = Tensor::zeros(&[100]).requires_grad_(true);
/// uniform_(&w, -0.5, 0.5);
/// assert!(w.to_vec().iter().all(|v| (-0.5..0.5).contains(v)));
/// ```
pub fn uniform_<T: Float>(t: &Tensor<T>, low: T, high: T) -> Tensor<T> {
    fill_from(t, &Tensor::rand_uniform(t.shape(), low, high))
}

/// Fills `t` from N(mean, std²), like `torch.nn.init.normal_`.
///
/// ```
/// use tapegrad::nn::init::normal_;
/// use tapegrad::Tensor;
/// let w: Tensor<f64> = Tensor::zeros(&[10_000]);
/// normal_(&w, 1.0, 0.5);
/// assert!((w.mean().item() - 1.0).abs() < 0.05 && (w.std().item() - 0.5).abs() < 0.05);
/// ```
pub fn normal_<T: Float>(t: &Tensor<T>, mean: T, std: T) -> Tensor<T> {
    fill_from(t, &Tensor::normal(mean, std, t.shape()))
}

/// Fills `t` with zeros, like `torch.nn.init.zeros_`.
///
/// ```
/// let b = tapegrad::nn::init::zeros_(&tapegrad::Tensor::<f32>::ones(&[2]));
/// assert_eq!(b.to_vec(), vec![0.0, 0.0]);
/// ```
pub fn zeros_<T: Float>(t: &Tensor<T>) -> Tensor<T> {
    no_grad(|| t.fill_(T::zero()));
    t.clone()
}

/// Fills `t` with ones, like `torch.nn.init.ones_`.
///
/// ```
/// let b = tapegrad::nn::init::ones_(&tapegrad::Tensor::<f32>::zeros(&[2]));
/// assert_eq!(b.to_vec(), vec![1.0, 1.0]);
/// ```
pub fn ones_<T: Float>(t: &Tensor<T>) -> Tensor<T> {
    no_grad(|| t.fill_(T::one()));
    t.clone()
}

/// Glorot uniform with gain 1: U(-a, a), `a = √(6 / (fan_in + fan_out))`, like
/// `torch.nn.init.xavier_uniform_`. Panics for fewer than 2 dims (see
/// [`try_xavier_uniform_`]).
///
/// ```
/// use tapegrad::nn::init::xavier_uniform_;
/// use tapegrad::Tensor;
/// let w: Tensor = xavier_uniform_(&Tensor::zeros(&[20, 30]));
/// let a = (6.0f32 / 50.0).sqrt();
/// assert!(w.to_vec().iter().all(|v| v.abs() <= a));
/// ```
#[track_caller]
pub fn xavier_uniform_<T: Float>(t: &Tensor<T>) -> Tensor<T> {
    or_panic(try_xavier_uniform_(t, 1.0))
}

/// [`xavier_uniform_`] with a gain, returning an error for fewer than 2 dims.
///
/// ```
/// use tapegrad::nn::init::try_xavier_uniform_;
/// assert!(try_xavier_uniform_(&tapegrad::Tensor::<f32>::zeros(&[3]), 1.0).is_err());
/// ```
pub fn try_xavier_uniform_<T: Float>(t: &Tensor<T>, gain: f64) -> Result<Tensor<T>> {
    let (fan_in, fan_out) = fans_for("xavier_uniform_", t)?;
    let a = gain * (6.0 / (fan_in + fan_out) as f64).sqrt();
    Ok(uniform_(t, scalar(-a), scalar(a)))
}

/// Glorot normal with gain 1: N(0, 2 / (fan_in + fan_out)), like
/// `torch.nn.init.xavier_normal_`. Panics for fewer than 2 dims.
///
/// ```
/// use tapegrad::nn::init::xavier_normal_;
/// use tapegrad::Tensor;
/// let w: Tensor<f64> = xavier_normal_(&Tensor::zeros(&[200, 300]));
/// assert!((w.std().item() - (2.0f64 / 500.0).sqrt()).abs() < 0.002);
/// ```
#[track_caller]
pub fn xavier_normal_<T: Float>(t: &Tensor<T>) -> Tensor<T> {
    or_panic(try_xavier_normal_(t, 1.0))
}

/// [`xavier_normal_`] with a gain, returning an error for fewer than 2 dims.
///
/// ```
/// use tapegrad::nn::init::try_xavier_normal_;
/// assert!(try_xavier_normal_(&tapegrad::Tensor::<f32>::zeros(&[3]), 1.0).is_err());
/// ```
pub fn try_xavier_normal_<T: Float>(t: &Tensor<T>, gain: f64) -> Result<Tensor<T>> {
    let (fan_in, fan_out) = fans_for("xavier_normal_", t)?;
    let std = gain * (2.0 / (fan_in + fan_out) as f64).sqrt();
    Ok(normal_(t, T::zero(), scalar(std)))
}

/// The standard deviation of a Kaiming initialisation.
fn kaiming_std<T: Float>(
    op: &'static str,
    t: &Tensor<T>,
    mode: FanMode,
    nonlinearity: Nonlinearity,
) -> Result<f64> {
    let (fan_in, fan_out) = fans_for(op, t)?;
    let fan = match mode {
        FanMode::FanIn => fan_in,
        FanMode::FanOut => fan_out,
    };
    if fan == 0 {
        return Err(Error::shape(
            op,
            format!(
                "cannot initialise a tensor with a fan of 0 (shape {:?})",
                t.shape()
            ),
        ));
    }
    Ok(calculate_gain(nonlinearity) / (fan as f64).sqrt())
}

/// He uniform with PyTorch's defaults (`a = 0`, fan_in, leaky_relu gain, so √2):
/// U(-b, b), `b = √3 · gain / √fan_in`, like `torch.nn.init.kaiming_uniform_`. Panics for
/// fewer than 2 dims or a fan of 0 (see [`try_kaiming_uniform_`]).
///
/// ```
/// use tapegrad::nn::init::kaiming_uniform_;
/// use tapegrad::Tensor;
/// let w: Tensor = kaiming_uniform_(&Tensor::zeros(&[10, 24]));
/// let b = (3.0f32).sqrt() * (2.0f32).sqrt() / (24.0f32).sqrt(); // = 0.5
/// assert!(w.to_vec().iter().all(|v| v.abs() <= b));
/// ```
#[track_caller]
pub fn kaiming_uniform_<T: Float>(t: &Tensor<T>) -> Tensor<T> {
    or_panic(try_kaiming_uniform_(
        t,
        FanMode::FanIn,
        Nonlinearity::LeakyRelu(0.0),
    ))
}

/// [`kaiming_uniform_`] with the fan mode and nonlinearity (`LeakyRelu(a)` for PyTorch's
/// `a`), returning an error for fewer than 2 dims or a fan of 0.
///
/// ```
/// use tapegrad::nn::init::{try_kaiming_uniform_, FanMode, Nonlinearity};
/// use tapegrad::Tensor;
/// let w: Tensor = Tensor::zeros(&[10, 24]);
/// assert!(try_kaiming_uniform_(&w, FanMode::FanOut, Nonlinearity::Relu).is_ok());
/// assert!(try_kaiming_uniform_(&Tensor::<f32>::zeros(&[0, 3]), FanMode::FanOut, Nonlinearity::Relu).is_err());
/// ```
pub fn try_kaiming_uniform_<T: Float>(
    t: &Tensor<T>,
    mode: FanMode,
    nonlinearity: Nonlinearity,
) -> Result<Tensor<T>> {
    let bound = 3f64.sqrt() * kaiming_std("kaiming_uniform_", t, mode, nonlinearity)?;
    Ok(uniform_(t, scalar(-bound), scalar(bound)))
}

/// He normal with PyTorch's defaults (`a = 0`, fan_in, leaky_relu gain): N(0, 2 / fan_in),
/// like `torch.nn.init.kaiming_normal_`. Panics for fewer than 2 dims or a fan of 0.
///
/// ```
/// use tapegrad::nn::init::kaiming_normal_;
/// use tapegrad::Tensor;
/// let w: Tensor<f64> = kaiming_normal_(&Tensor::zeros(&[300, 200]));
/// assert!((w.std().item() - (2.0f64 / 200.0).sqrt()).abs() < 0.003);
/// ```
#[track_caller]
pub fn kaiming_normal_<T: Float>(t: &Tensor<T>) -> Tensor<T> {
    or_panic(try_kaiming_normal_(
        t,
        FanMode::FanIn,
        Nonlinearity::LeakyRelu(0.0),
    ))
}

/// [`kaiming_normal_`] with the fan mode and nonlinearity, returning an error for fewer
/// than 2 dims or a fan of 0.
///
/// ```
/// use tapegrad::nn::init::{try_kaiming_normal_, FanMode, Nonlinearity};
/// assert!(try_kaiming_normal_(&tapegrad::Tensor::<f32>::zeros(&[4]), FanMode::FanIn, Nonlinearity::Relu).is_err());
/// ```
pub fn try_kaiming_normal_<T: Float>(
    t: &Tensor<T>,
    mode: FanMode,
    nonlinearity: Nonlinearity,
) -> Result<Tensor<T>> {
    let std = kaiming_std("kaiming_normal_", t, mode, nonlinearity)?;
    Ok(normal_(t, T::zero(), scalar(std)))
}
