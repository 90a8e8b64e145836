//! Normalization layers: `BatchNorm1d`, `BatchNorm2d` (with running statistics kept as
//! buffers under PyTorch's names) and `LayerNorm`.

use super::functional::{batch_norm_checked, try_layer_norm};
use super::module::Mode;
use super::{DynTensor, Module};
use crate::element::Float;
use crate::error::{or_panic, Error, Result};
use crate::tensor::inplace::write_values;
use crate::Tensor;

/// What `BatchNorm1d` and `BatchNorm2d` share.
#[derive(Debug, Clone)]
struct BatchNormCore<T: Float> {
    weight: Option<Tensor<T>>,
    bias: Option<Tensor<T>>,
    running_mean: Option<Tensor<T>>,
    running_var: Option<Tensor<T>>,
    num_batches_tracked: Option<Tensor<i64>>,
    momentum: T,
    eps: T,
    mode: Mode,
}

impl<T: Float> BatchNormCore<T> {
    fn new(features: usize) -> Self {
        BatchNormCore {
            weight: Some(Tensor::ones(&[features]).requires_grad_(true)),
            bias: Some(Tensor::zeros(&[features]).requires_grad_(true)),
            running_mean: Some(Tensor::zeros(&[features])),
            running_var: Some(Tensor::ones(&[features])),
            num_batches_tracked: Some(Tensor::zeros(&[])),
            momentum: T::from(0.1).unwrap_or_else(T::nan),
            eps: T::from(1e-5).unwrap_or_else(T::nan),
            mode: Mode::default(),
        }
    }

    fn features(&self) -> usize {
        self.running_mean
            .as_ref()
            .or(self.weight.as_ref())
            .map_or(0, |t| t.shape()[0])
    }

    fn forward(&self, name: &'static str, dims: &[usize], x: &Tensor<T>) -> Result<Tensor<T>> {
        if !dims.contains(&x.ndim()) || x.shape()[1] != self.features() && self.has_shape() {
            return Err(Error::shape(
                name,
                format!(
                    "expected input of {} dims with {} channels (dim 1), got shape {:?}",
                    dims.iter()
                        .map(|d| d.to_string())
                        .collect::<Vec<_>>()
                        .join(" or "),
                    self.features(),
                    x.shape()
                ),
            ));
        }
        let training = self.mode.get();
        let (y, _) = batch_norm_checked(
            x,
            self.running_mean.as_ref(),
            self.running_var.as_ref(),
            self.weight.as_ref(),
            self.bias.as_ref(),
            training,
            self.momentum,
            self.eps,
        )
        .map_err(|e| Error::new(e.kind(), name, e.message()))?;
        if training && let Some(count) = &self.num_batches_tracked {
            write_values(count, vec![count.to_vec()[0] + 1]);
        }
        Ok(y)
    }

    /// True if the layer knows its channel count (it has parameters or statistics).
    fn has_shape(&self) -> bool {
        self.running_mean.is_some() || self.weight.is_some()
    }

    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        let mut named = Vec::new();
        if let (Some(w), Some(b)) = (&self.weight, &self.bias) {
            named.push(("weight".to_string(), w.clone()));
            named.push(("bias".to_string(), b.clone()));
        }
        named
    }

    fn named_buffers(&self) -> Vec<(String, DynTensor)> {
        let mut named = Vec::new();
        if let (Some(m), Some(v), Some(n)) = (
            &self.running_mean,
            &self.running_var,
            &self.num_batches_tracked,
        ) {
            named.push(("running_mean".to_string(), DynTensor::from_float(m.clone())));
            named.push(("running_var".to_string(), DynTensor::from_float(v.clone())));
            named.push((
                "num_batches_tracked".to_string(),
                DynTensor::from(n.clone()),
            ));
        }
        named
    }
}

macro_rules! batch_norm_layer {
    ($(#[$doc:meta])* $name:ident, $dims:expr, $example:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name<T: Float = f32> {
            core: BatchNormCore<T>,
        }

        impl<T: Float> $name<T> {
            /// A layer over `features` channels: weight 1, bias 0, running mean 0 and
            /// variance 1, momentum 0.1, eps 1e-5, in training mode (PyTorch's defaults).
            ///
            /// ```
            #[doc = concat!("use tapegrad::nn::", stringify!($name), ";")]
            #[doc = concat!("let bn: ", stringify!($name), " = ", stringify!($name), "::new(4);")]
            /// assert_eq!(bn.running_var().unwrap().to_vec(), vec![1.0; 4]);
            /// ```
            pub fn new(features: usize) -> Self {
                $name {
                    core: BatchNormCore::new(features),
                }
            }

            /// The weight of the running average (PyTorch's `momentum`, default 0.1).
            ///
            /// ```
            #[doc = concat!("use tapegrad::nn::", stringify!($name), ";")]
            #[doc = concat!("let bn = ", stringify!($name), "::<f64>::new(4).momentum(0.5);")]
            /// # let _ = bn;
            /// ```
            pub fn momentum(mut self, momentum: T) -> Self {
                self.core.momentum = momentum;
                self
            }

            /// The constant added to the variance (default 1e-5).
            ///
            /// ```
            #[doc = concat!("use tapegrad::nn::", stringify!($name), ";")]
            #[doc = concat!("let bn = ", stringify!($name), "::<f64>::new(4).eps(1e-3);")]
            /// # let _ = bn;
            /// ```
            pub fn eps(mut self, eps: T) -> Self {
                self.core.eps = eps;
                self
            }

            /// With a learned weight and bias or without (PyTorch's `affine`).
            ///
            /// ```
            #[doc = concat!("use tapegrad::nn::{", stringify!($name), ", Module};")]
            #[doc = concat!("let bn = ", stringify!($name), "::<f32>::new(4).affine(false);")]
            /// assert!(bn.parameters().is_empty());
            /// ```
            pub fn affine(mut self, affine: bool) -> Self {
                let n = self.core.features();
                self.core.weight = affine.then(|| Tensor::ones(&[n]).requires_grad_(true));
                self.core.bias = affine.then(|| Tensor::zeros(&[n]).requires_grad_(true));
                self
            }

            /// Keeping running statistics or not (PyTorch's `track_running_stats`); without
            /// them, evaluation normalizes with the batch's own statistics too.
            ///
            /// ```
            #[doc = concat!("use tapegrad::nn::{", stringify!($name), ", Module};")]
            #[doc = concat!("let bn = ", stringify!($name), "::<f32>::new(4).track_running_stats(false);")]
            /// assert!(bn.named_buffers().is_empty());
            /// ```
            pub fn track_running_stats(mut self, track: bool) -> Self {
                let n = self.core.features();
                self.core.running_mean = track.then(|| Tensor::zeros(&[n]));
                self.core.running_var = track.then(|| Tensor::ones(&[n]));
                self.core.num_batches_tracked = track.then(|| Tensor::zeros(&[]));
                self
            }

            /// The running mean, `[features]` (a handle to the buffer).
            ///
            /// ```
            #[doc = concat!("use tapegrad::nn::", stringify!($name), ";")]
            #[doc = concat!("assert_eq!(", stringify!($name), "::<f32>::new(2).running_mean().unwrap().to_vec(), vec![0.0; 2]);")]
            /// ```
            pub fn running_mean(&self) -> Option<&Tensor<T>> {
                self.core.running_mean.as_ref()
            }

            /// The running variance, `[features]`.
            ///
            /// ```
            #[doc = concat!("use tapegrad::nn::", stringify!($name), ";")]
            #[doc = concat!("assert_eq!(", stringify!($name), "::<f32>::new(2).running_var().unwrap().to_vec(), vec![1.0; 2]);")]
            /// ```
            pub fn running_var(&self) -> Option<&Tensor<T>> {
                self.core.running_var.as_ref()
            }

            /// How many training batches have updated the running statistics.
            ///
            /// ```
            #[doc = concat!("use tapegrad::nn::", stringify!($name), ";")]
            #[doc = concat!("assert_eq!(", stringify!($name), "::<f32>::new(2).num_batches_tracked(), 0);")]
            /// ```
            pub fn num_batches_tracked(&self) -> i64 {
                self.core
                    .num_batches_tracked
                    .as_ref()
                    .map_or(0, |n| n.to_vec()[0])
            }

            /// The weight (`gamma`), if the layer is affine.
            ///
            /// ```
            #[doc = concat!("use tapegrad::nn::", stringify!($name), ";")]
            #[doc = concat!("assert!(", stringify!($name), "::<f32>::new(2).weight().unwrap().requires_grad());")]
            /// ```
            pub fn weight(&self) -> Option<&Tensor<T>> {
                self.core.weight.as_ref()
            }

            /// The bias (`beta`), if the layer is affine.
            ///
            /// ```
            #[doc = concat!("use tapegrad::nn::", stringify!($name), ";")]
            #[doc = concat!("assert_eq!(", stringify!($name), "::<f32>::new(2).bias().unwrap().to_vec(), vec![0.0; 2]);")]
            /// ```
            pub fn bias(&self) -> Option<&Tensor<T>> {
                self.core.bias.as_ref()
            }

            /// [`Module::forward`] returning an error naming the layer and the shape: the
            /// wrong number of dims or channels, or one value per channel in training.
            ///
            /// ```
            #[doc = concat!("use tapegrad::nn::", stringify!($name), ";")]
            /// use tapegrad::Tensor;
            #[doc = concat!("let bn: ", stringify!($name), " = ", stringify!($name), "::new(3);")]
            #[doc = $example]
            /// ```
            #[track_caller]
            pub fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
                let _site = crate::autograd::anomaly::enter(std::panic::Location::caller());
                self.core.forward(stringify!($name), &$dims, x)
            }
        }

        impl<T: Float> Module<T> for $name<T> {
            #[track_caller]
            fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
                or_panic(self.try_forward(x))
            }
            fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
                Self::try_forward(self, x)
            }
            fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
                self.core.named_parameters()
            }
            fn named_buffers(&self) -> Vec<(String, DynTensor)> {
                self.core.named_buffers()
            }
            fn train(&self, on: bool) {
                self.core.mode.set(on);
            }
            fn is_training(&self) -> bool {
                self.core.mode.get()
            }
        }
    };
}

batch_norm_layer! {
    /// Batch normalization over `[N, C]` or `[N, C, L]`, like `nn.BatchNorm1d(features)`:
    /// in training, each channel is normalized with the batch's statistics, which also
    /// update the running ones; in evaluation, with the running ones.
    ///
    /// ```
    /// use tapegrad::nn::{BatchNorm1d, Module};
    /// use tapegrad::Tensor;
    /// let bn: BatchNorm1d<f64> = BatchNorm1d::new(1);
    /// let y = bn.forward(&Tensor::from_vec(vec![1.0, 3.0], &[2, 1]));
    /// assert!((y.to_vec()[1] - 1.0).abs() < 1e-4); // (3 - 2) / √(1 + 1e-5)
    /// assert_eq!(bn.num_batches_tracked(), 1);
    /// ```
    BatchNorm1d, [2, 3], "assert!(bn.try_forward(&Tensor::zeros(&[1, 3])).is_err()); // one value per channel"
}

batch_norm_layer! {
    /// Batch normalization over `[N, C, H, W]`, per channel, like `nn.BatchNorm2d(channels)`.
    ///
    /// ```
    /// use tapegrad::nn::{BatchNorm2d, Module};
    /// use tapegrad::Tensor;
    /// let bn: BatchNorm2d = BatchNorm2d::new(3);
    /// assert_eq!(bn.forward(&Tensor::randn(&[4, 3, 5, 5])).shape(), &[4, 3, 5, 5]);
    /// ```
    BatchNorm2d, [4], "assert!(bn.try_forward(&Tensor::zeros(&[2, 4, 5, 5])).is_err()); // 4 channels, not 3"
}

/// Layer normalization over the last dims, like `nn.LayerNorm(normalized_shape)`: weight 1
/// and bias 0 of `normalized_shape`, eps 1e-5.
///
/// ```
/// use tapegrad::nn::{LayerNorm, Module};
/// use tapegrad::Tensor;
/// let ln: LayerNorm<f64> = LayerNorm::new(&[4]);
/// let y = ln.forward(&Tensor::randn(&[2, 4]));
/// assert!(y.sum_dim(1, false).to_vec().iter().all(|s| s.abs() < 1e-12));
/// ```
#[derive(Debug, Clone)]
pub struct LayerNorm<T: Float = f32> {
    normalized_shape: Vec<usize>,
    weight: Option<Tensor<T>>,
    bias: Option<Tensor<T>>,
    eps: T,
    mode: Mode,
}

impl<T: Float> LayerNorm<T> {
    /// A layer normalizing over trailing dims of `normalized_shape`.
    ///
    /// ```
    /// use tapegrad::nn::LayerNorm;
    /// assert_eq!(LayerNorm::<f32>::new(&[2, 3]).weight().unwrap().shape(), &[2, 3]);
    /// ```
    pub fn new(normalized_shape: &[usize]) -> Self {
        LayerNorm {
            normalized_shape: normalized_shape.to_vec(),
            weight: Some(Tensor::ones(normalized_shape).requires_grad_(true)),
            bias: Some(Tensor::zeros(normalized_shape).requires_grad_(true)),
            eps: T::from(1e-5).unwrap_or_else(T::nan),
            mode: Mode::default(),
        }
    }

    /// The constant added to the variance (default 1e-5).
    ///
    /// ```
    /// use tapegrad::nn::LayerNorm;
    /// let ln = LayerNorm::<f64>::new(&[3]).eps(1e-6);
    /// # let _ = ln;
    /// ```
    pub fn eps(mut self, eps: T) -> Self {
        self.eps = eps;
        self
    }

    /// With a learned weight and bias or without (PyTorch's `elementwise_affine`).
    ///
    /// ```
    /// use tapegrad::nn::{LayerNorm, Module};
    /// assert!(LayerNorm::<f32>::new(&[3]).elementwise_affine(false).parameters().is_empty());
    /// ```
    pub fn elementwise_affine(mut self, affine: bool) -> Self {
        let shape = self.normalized_shape.clone();
        self.weight = affine.then(|| Tensor::ones(&shape).requires_grad_(true));
        self.bias = affine.then(|| Tensor::zeros(&shape).requires_grad_(true));
        self
    }

    /// The weight, if the layer is affine.
    ///
    /// ```
    /// use tapegrad::nn::LayerNorm;
    /// assert_eq!(LayerNorm::<f32>::new(&[3]).weight().unwrap().to_vec(), vec![1.0; 3]);
    /// ```
    pub fn weight(&self) -> Option<&Tensor<T>> {
        self.weight.as_ref()
    }

    /// The bias, if the layer is affine.
    ///
    /// ```
    /// use tapegrad::nn::LayerNorm;
    /// assert_eq!(LayerNorm::<f32>::new(&[3]).bias().unwrap().to_vec(), vec![0.0; 3]);
    /// ```
    pub fn bias(&self) -> Option<&Tensor<T>> {
        self.bias.as_ref()
    }

    /// [`Module::forward`] returning an error naming `LayerNorm` and the shapes.
    ///
    /// ```
    /// use tapegrad::nn::LayerNorm;
    /// use tapegrad::Tensor;
    /// assert!(LayerNorm::<f32>::new(&[3]).try_forward(&Tensor::zeros(&[2, 4])).is_err());
    /// ```
    #[track_caller]
    pub fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let _site = crate::autograd::anomaly::enter(std::panic::Location::caller());
        try_layer_norm(
            x,
            &self.normalized_shape,
            self.weight.as_ref(),
            self.bias.as_ref(),
            self.eps,
        )
        .map_err(|e| Error::new(e.kind(), "LayerNorm", e.message()))
    }
}

impl<T: Float> Module<T> for LayerNorm<T> {
    #[track_caller]
    fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
        or_panic(self.try_forward(x))
    }
    fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        Self::try_forward(self, x)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        let mut named = Vec::new();
        if let (Some(w), Some(b)) = (&self.weight, &self.bias) {
            named.push(("weight".to_string(), w.clone()));
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
