//! `Linear`: `y = x Wᵀ + b`, PyTorch's `nn.Linear`.

use super::module::Mode;
use super::Module;
use crate::element::Float;
use crate::error::{or_panic, Error, Result};
use crate::ops::Linear as LinearOp;
use crate::Tensor;

/// A fully connected layer, `y = x Wᵀ + b`, with `weight` of shape `[out, in]` and `bias`
/// of shape `[out]`, like `nn.Linear`. Parameters are named `"weight"` and `"bias"`.
///
/// `x` may be `[in]`, `[batch, in]` or have more leading dims (`[..., in]`).
///
/// ```
/// use tapegrad::nn::{Linear, Module};
/// use tapegrad::Tensor;
/// tapegrad::manual_seed(0);
/// let layer: Linear = Linear::new(4, 2);
/// assert_eq!(layer.weight().shape(), &[2, 4]);
/// let y = layer.forward(&Tensor::ones(&[64, 4]));
/// assert_eq!(y.shape(), &[64, 2]);
/// assert!(layer.try_forward(&Tensor::ones(&[64, 3])).is_err());
/// ```
#[derive(Debug, Clone)]
pub struct Linear<T: Float = f32> {
    weight: Tensor<T>,
    bias: Option<Tensor<T>>,
    mode: Mode,
}

impl<T: Float> Linear<T> {
    /// A layer from `in_features` to `out_features` with a bias, initialised like PyTorch:
    /// weight and bias both drawn from U(-1/√in, 1/√in) by the seeded generator
    /// ([`manual_seed`](crate::manual_seed)).
    ///
    /// ```
    /// use tapegrad::nn::Linear;
    /// let layer: Linear = Linear::new(4, 2);
    /// assert_eq!((layer.weight().shape(), layer.bias().unwrap().shape()), (&[2, 4][..], &[2][..]));
    /// ```
    pub fn new(in_features: usize, out_features: usize) -> Self {
        Linear::with_bias(in_features, out_features, true)
    }

    /// As [`Linear::new`], with a bias only if `bias` (PyTorch's `bias=False` leaves it out).
    ///
    /// ```
    /// use tapegrad::nn::Linear;
    /// let layer: Linear = Linear::with_bias(4, 2, false);
    /// assert!(layer.bias().is_none());
    /// ```
    pub fn with_bias(in_features: usize, out_features: usize, bias: bool) -> Self {
        // PyTorch: kaiming_uniform_(a=√5) on the weight, which comes to U(-1/√in, 1/√in),
        // and the same bound for the bias. With no inputs the bound is 0.
        let bound = if in_features == 0 {
            T::zero()
        } else {
            T::one() / T::from(in_features).unwrap_or_else(T::nan).sqrt()
        };
        let uniform =
            |shape: &[usize]| Tensor::rand_uniform(shape, -bound, bound).requires_grad_(true);
        let weight = uniform(&[out_features, in_features]);
        let bias = bias.then(|| uniform(&[out_features]));
        Linear {
            weight,
            bias,
            mode: Mode::default(),
        }
    }

    /// A layer with the given weight `[out, in]` and optional bias `[out]`. They become
    /// parameters: `requires_grad` is turned on. Panics on shapes that do not fit.
    ///
    /// ```
    /// use tapegrad::nn::Linear;
    /// use tapegrad::{nn::Module, Tensor};
    /// let w: Tensor = Tensor::from_vec(vec![0.5, 0.5], &[1, 2]);
    /// let layer = Linear::from_weights(w, None);
    /// assert_eq!(layer.forward(&Tensor::ones(&[1, 2])).item(), 1.0);
    /// ```
    #[track_caller]
    pub fn from_weights(weight: Tensor<T>, bias: Option<Tensor<T>>) -> Self {
        or_panic(Linear::try_from_weights(weight, bias))
    }

    /// [`Linear::from_weights`] returning an error for shapes that do not fit.
    ///
    /// ```
    /// use tapegrad::nn::Linear;
    /// use tapegrad::Tensor;
    /// let w: Tensor = Tensor::zeros(&[2, 3]);
    /// assert!(Linear::try_from_weights(w, Some(Tensor::zeros(&[3]))).is_err()); // bias must be [2]
    /// ```
    pub fn try_from_weights(weight: Tensor<T>, bias: Option<Tensor<T>>) -> Result<Self> {
        let &[out_features, _] = weight.shape() else {
            return Err(Error::shape(
                "Linear",
                format!(
                    "weight must be 2-D [out, in], got shape {:?}",
                    weight.shape()
                ),
            ));
        };
        if let Some(b) = &bias
            && b.shape() != [out_features]
        {
            return Err(Error::shape(
                "Linear",
                format!(
                    "bias must have shape [{out_features}] to match weight {:?}, got {:?}",
                    weight.shape(),
                    b.shape()
                ),
            ));
        }
        Ok(Linear {
            weight: weight.requires_grad_(true),
            bias: bias.map(|b| b.requires_grad_(true)),
            mode: Mode::default(),
        })
    }

    /// The weight, `[out_features, in_features]`.
    ///
    /// ```
    /// use tapegrad::nn::Linear;
    /// assert!(Linear::<f32>::new(4, 2).weight().requires_grad());
    /// ```
    pub fn weight(&self) -> &Tensor<T> {
        &self.weight
    }

    /// The bias, `[out_features]`, if the layer has one.
    ///
    /// ```
    /// use tapegrad::nn::Linear;
    /// assert_eq!(Linear::<f32>::new(4, 2).bias().unwrap().shape(), &[2]);
    /// ```
    pub fn bias(&self) -> Option<&Tensor<T>> {
        self.bias.as_ref()
    }

    /// The number of input features.
    ///
    /// ```
    /// use tapegrad::nn::Linear;
    /// assert_eq!(Linear::<f32>::new(4, 2).in_features(), 4);
    /// ```
    pub fn in_features(&self) -> usize {
        self.weight.shape()[1]
    }

    /// The number of output features.
    ///
    /// ```
    /// use tapegrad::nn::Linear;
    /// assert_eq!(Linear::<f32>::new(4, 2).out_features(), 2);
    /// ```
    pub fn out_features(&self) -> usize {
        self.weight.shape()[0]
    }

    /// [`Module::forward`] returning an error when `x`'s last dim is not `in_features`.
    ///
    /// ```
    /// use tapegrad::nn::Linear;
    /// use tapegrad::Tensor;
    /// let layer: Linear = Linear::new(4, 2);
    /// assert_eq!(layer.try_forward(&Tensor::ones(&[8, 4])).unwrap().shape(), &[8, 2]);
    /// assert!(layer.try_forward(&Tensor::ones(&[8, 3])).is_err());
    /// ```
    #[track_caller]
    pub fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let _site = crate::autograd::anomaly::enter(std::panic::Location::caller());
        if x.shape().last() != Some(&self.in_features()) {
            return Err(Error::shape(
                "Linear",
                format!(
                    "input of shape {:?} does not end in in_features = {} (weight {:?})",
                    x.shape(),
                    self.in_features(),
                    self.weight.shape()
                ),
            ));
        }
        if x.ndim() == 1 {
            // One sample: as a batch of one, then back.
            let y = self.try_forward(&x.reshape(&[1, self.in_features()]))?;
            return Ok(y.reshape(&[self.out_features()]));
        }
        // One fused op (x wᵀ + b) keeps the tape to one node per layer.
        match &self.bias {
            Some(b) => Tensor::apply(LinearOp { bias: true }.into(), &[x, &self.weight, b]),
            None => Tensor::apply(LinearOp { bias: false }.into(), &[x, &self.weight]),
        }
    }
}

impl<T: Float> Module<T> for Linear<T> {
    /// `x Wᵀ + b`; panics with [`Linear::try_forward`]'s error if `x` does not fit.
    #[track_caller]
    fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
        or_panic(self.try_forward(x))
    }
    fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        Self::try_forward(self, x)
    }

    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        let mut named = vec![("weight".to_string(), self.weight.clone())];
        if let Some(b) = &self.bias {
            named.push(("bias".to_string(), b.clone()));
        }
        named
    }

    fn train(&self, on: bool) {
        self.mode.set(on);
    }

    fn is_training(&self) -> bool {
        self.mode.get()
    }
}
