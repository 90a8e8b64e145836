//! `Conv1d` and `Conv2d`: PyTorch's `nn.Conv1d` / `nn.Conv2d`, with builders for stride,
//! padding, dilation, groups and bias.

use super::functional::{conv2d_params, conv_params, try_conv1d};
use super::module::Mode;
use super::Module;
use crate::element::Float;
use crate::error::{or_panic, Error, Result};
use crate::ops::ConvParams;
use crate::Tensor;

/// The parts `Conv1d` and `Conv2d` share: parameters, settings and mode.
#[derive(Debug, Clone)]
struct ConvCore<T: Float> {
    weight: Tensor<T>,
    bias: Option<Tensor<T>>,
    params: ConvParams,
    in_channels: usize,
    out_channels: usize,
    kernel: [usize; 2],
    mode: Mode,
}

impl<T: Float> ConvCore<T> {
    fn new(
        name: &'static str,
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
    ) -> Self {
        let mut core = ConvCore {
            weight: Tensor::zeros(&[0]),
            bias: None,
            params: conv_params([1, 1], [0, 0], [1, 1], 1),
            in_channels,
            out_channels,
            kernel,
            mode: Mode::default(),
        };
        or_panic(core.reset(name, 1, true));
        core
    }

    /// Draws the parameters for `groups` (and a bias if `bias`), as PyTorch's
    /// `reset_parameters`: weight and bias from U(-1/√fan_in, 1/√fan_in), with
    /// fan_in = in_channels / groups · kh · kw. An error (nothing changed) if `groups`
    /// does not divide both channel counts.
    fn reset(&mut self, name: &'static str, groups: usize, bias: bool) -> Result<()> {
        let (c, o) = (self.in_channels, self.out_channels);
        if groups == 0 || c % groups != 0 || o % groups != 0 {
            return Err(Error::new(
                crate::ErrorKind::Value,
                name,
                format!("groups = {groups} must divide in_channels = {c} and out_channels = {o}"),
            ));
        }
        let fan_in = c / groups * self.kernel[0] * self.kernel[1];
        let bound = if fan_in == 0 {
            T::zero()
        } else {
            T::one() / T::from(fan_in).unwrap_or_else(T::nan).sqrt()
        };
        let uniform =
            |shape: &[usize]| Tensor::rand_uniform(shape, -bound, bound).requires_grad_(true);
        let shape: Vec<usize> = if name == "Conv1d" {
            vec![o, c / groups, self.kernel[1]]
        } else {
            vec![o, c / groups, self.kernel[0], self.kernel[1]]
        };
        self.weight = uniform(&shape);
        self.bias = bias.then(|| uniform(&[o]));
        self.params.groups = groups;
        Ok(())
    }

    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        let mut named = vec![("weight".to_string(), self.weight.clone())];
        if let Some(b) = &self.bias {
            named.push(("bias".to_string(), b.clone()));
        }
        named
    }
}

/// Builder methods and accessors shared by both layers.
macro_rules! conv_layer {
    ($name:ident, $label:literal) => {
        impl<T: Float> $name<T> {
            /// The stride (PyTorch's default 1).
            ///
            /// ```
            #[doc = concat!("use tapegrad::nn::", stringify!($name), ";")]
            #[doc = concat!("let conv: ", stringify!($name), " = ", stringify!($name), "::new(1, 2, 3).stride(2);")]
            /// assert_eq!(conv.weight().shape()[0], 2);
            /// ```
            pub fn stride(mut self, stride: usize) -> Self {
                self.set_stride(stride);
                self
            }

            /// Zero padding on every side (PyTorch's default 0).
            ///
            /// ```
            #[doc = concat!("use tapegrad::nn::", stringify!($name), ";")]
            #[doc = concat!("let conv: ", stringify!($name), " = ", stringify!($name), "::new(1, 2, 3).padding(1);")]
            /// assert_eq!(conv.out_channels(), 2);
            /// ```
            pub fn padding(mut self, padding: usize) -> Self {
                self.set_padding(padding);
                self
            }

            /// The spacing between kernel taps (PyTorch's default 1).
            ///
            /// ```
            #[doc = concat!("use tapegrad::nn::", stringify!($name), ";")]
            #[doc = concat!("let conv: ", stringify!($name), " = ", stringify!($name), "::new(1, 2, 3).dilation(2);")]
            /// assert_eq!(conv.in_channels(), 1);
            /// ```
            pub fn dilation(mut self, dilation: usize) -> Self {
                self.set_dilation(dilation);
                self
            }

            /// Splits the channels into `groups` independent convolutions (PyTorch's
            /// default 1). The weight becomes `[out, in / groups, ...]` and is drawn again.
            /// Panics if `groups` does not divide both channel counts; see
            /// [`try_groups`](Self::try_groups).
            ///
            /// ```
            #[doc = concat!("use tapegrad::nn::", stringify!($name), ";")]
            #[doc = concat!("let conv: ", stringify!($name), " = ", stringify!($name), "::new(4, 6, 3).groups(2);")]
            /// assert_eq!(conv.weight().shape()[1], 2);
            /// ```
            #[track_caller]
            pub fn groups(self, groups: usize) -> Self {
                or_panic(self.try_groups(groups))
            }

            /// [`groups`](Self::groups) returning an error instead of panicking.
            ///
            /// ```
            #[doc = concat!("use tapegrad::nn::", stringify!($name), ";")]
            #[doc = concat!("assert!(", stringify!($name), "::<f32>::new(4, 6, 3).try_groups(4).is_err());")]
            /// ```
            pub fn try_groups(mut self, groups: usize) -> Result<Self> {
                let bias = self.core.bias.is_some();
                self.core.reset($label, groups, bias)?;
                Ok(self)
            }

            /// With a bias or without (PyTorch's `bias=False`); a new bias is drawn.
            ///
            /// ```
            #[doc = concat!("use tapegrad::nn::", stringify!($name), ";")]
            #[doc = concat!("let conv: ", stringify!($name), " = ", stringify!($name), "::new(1, 2, 3).bias(false);")]
            /// assert!(conv.bias_tensor().is_none());
            /// ```
            pub fn bias(mut self, bias: bool) -> Self {
                let groups = self.core.params.groups;
                if bias != self.core.bias.is_some() {
                    // `groups` was checked when it was set.
                    or_panic(self.core.reset($label, groups, bias));
                }
                self
            }

            /// The weight, `[out, in / groups, kernel...]`.
            ///
            /// ```
            #[doc = concat!("use tapegrad::nn::", stringify!($name), ";")]
            #[doc = concat!("assert!(", stringify!($name), "::<f32>::new(1, 2, 3).weight().requires_grad());")]
            /// ```
            pub fn weight(&self) -> &Tensor<T> {
                &self.core.weight
            }

            /// The bias, `[out]`, if the layer has one (`bias` is the builder).
            ///
            /// ```
            #[doc = concat!("use tapegrad::nn::", stringify!($name), ";")]
            #[doc = concat!("assert_eq!(", stringify!($name), "::<f32>::new(1, 2, 3).bias_tensor().unwrap().shape(), &[2]);")]
            /// ```
            pub fn bias_tensor(&self) -> Option<&Tensor<T>> {
                self.core.bias.as_ref()
            }

            /// The number of input channels.
            ///
            /// ```
            #[doc = concat!("use tapegrad::nn::", stringify!($name), ";")]
            #[doc = concat!("assert_eq!(", stringify!($name), "::<f32>::new(3, 2, 1).in_channels(), 3);")]
            /// ```
            pub fn in_channels(&self) -> usize {
                self.core.in_channels
            }

            /// The number of output channels.
            ///
            /// ```
            #[doc = concat!("use tapegrad::nn::", stringify!($name), ";")]
            #[doc = concat!("assert_eq!(", stringify!($name), "::<f32>::new(3, 2, 1).out_channels(), 2);")]
            /// ```
            pub fn out_channels(&self) -> usize {
                self.core.out_channels
            }
        }

        impl<T: Float> Module<T> for $name<T> {
            /// The convolution; panics with `try_forward`'s error.
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
            fn train(&self, on: bool) {
                self.core.mode.set(on);
            }
            fn is_training(&self) -> bool {
                self.core.mode.get()
            }
        }
    };
}

/// A 2-D convolution layer, like `nn.Conv2d(in, out, kernel)`: weight `[out, in / groups,
/// k, k]` and bias `[out]`, initialised as PyTorch does. Input `[N, C, H, W]` or
/// `[C, H, W]`.
///
/// ```
/// use tapegrad::nn::{Conv2d, Module};
/// use tapegrad::Tensor;
/// let conv = Conv2d::<f64>::new(1, 6, 5).padding(2);
/// let y = conv.forward(&Tensor::zeros(&[8, 1, 28, 28]));
/// assert_eq!(y.shape(), &[8, 6, 28, 28]);
/// assert!(conv.try_forward(&Tensor::zeros(&[8, 3, 28, 28])).is_err()); // 3 channels, not 1
/// ```
#[derive(Debug, Clone)]
pub struct Conv2d<T: Float = f32> {
    core: ConvCore<T>,
}

impl<T: Float> Conv2d<T> {
    /// A layer from `in_channels` to `out_channels` with a square `kernel_size`, stride 1,
    /// no padding, a bias.
    ///
    /// ```
    /// use tapegrad::nn::Conv2d;
    /// assert_eq!(Conv2d::<f32>::new(3, 16, 3).weight().shape(), &[16, 3, 3, 3]);
    /// ```
    pub fn new(in_channels: usize, out_channels: usize, kernel_size: usize) -> Self {
        Conv2d::with_kernel(in_channels, out_channels, [kernel_size; 2])
    }

    /// As [`Conv2d::new`] with a kernel of `[height, width]`.
    ///
    /// ```
    /// use tapegrad::nn::Conv2d;
    /// assert_eq!(Conv2d::<f32>::with_kernel(3, 16, [1, 5]).weight().shape(), &[16, 3, 1, 5]);
    /// ```
    pub fn with_kernel(in_channels: usize, out_channels: usize, kernel: [usize; 2]) -> Self {
        Conv2d {
            core: ConvCore::new("Conv2d", in_channels, out_channels, kernel),
        }
    }

    /// Strides per dim, `[height, width]`.
    ///
    /// ```
    /// use tapegrad::nn::Conv2d;
    /// let conv: Conv2d = Conv2d::new(1, 1, 3).stride2([2, 1]);
    /// # let _ = conv;
    /// ```
    pub fn stride2(mut self, stride: [usize; 2]) -> Self {
        self.core.params.stride = stride;
        self
    }

    /// Padding per dim, `[height, width]`.
    ///
    /// ```
    /// use tapegrad::nn::Conv2d;
    /// let conv: Conv2d = Conv2d::new(1, 1, 3).padding2([1, 0]);
    /// # let _ = conv;
    /// ```
    pub fn padding2(mut self, padding: [usize; 2]) -> Self {
        self.core.params.padding = padding;
        self
    }

    /// Dilation per dim, `[height, width]`.
    ///
    /// ```
    /// use tapegrad::nn::Conv2d;
    /// let conv: Conv2d = Conv2d::new(1, 1, 3).dilation2([2, 1]);
    /// # let _ = conv;
    /// ```
    pub fn dilation2(mut self, dilation: [usize; 2]) -> Self {
        self.core.params.dilation = dilation;
        self
    }

    fn set_stride(&mut self, s: usize) {
        self.core.params.stride = [s; 2];
    }
    fn set_padding(&mut self, p: usize) {
        self.core.params.padding = [p; 2];
    }
    fn set_dilation(&mut self, d: usize) {
        self.core.params.dilation = [d; 2];
    }

    /// [`Module::forward`] returning an error (naming `Conv2d` and the shapes) for an
    /// input with the wrong channel count or smaller than the kernel.
    ///
    /// ```
    /// use tapegrad::nn::Conv2d;
    /// use tapegrad::Tensor;
    /// let conv: Conv2d = Conv2d::new(1, 2, 5);
    /// let e = conv.try_forward(&Tensor::zeros(&[1, 1, 4, 4])).unwrap_err();
    /// assert!(e.to_string().contains("Conv2d") && e.to_string().contains("[1, 1, 4, 4]"));
    /// ```
    #[track_caller]
    pub fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let _site = crate::autograd::anomaly::enter(std::panic::Location::caller());
        conv2d_params(
            x,
            &self.core.weight,
            self.core.bias.as_ref(),
            self.core.params,
        )
        .map_err(|e| Error::new(e.kind(), "Conv2d", e.message()))
    }
}

conv_layer!(Conv2d, "Conv2d");

/// A 1-D convolution layer, like `nn.Conv1d(in, out, kernel)`: weight `[out, in / groups,
/// k]` and bias `[out]`. Input `[N, C, L]` or `[C, L]`.
///
/// ```
/// use tapegrad::nn::{Conv1d, Module};
/// use tapegrad::Tensor;
/// let conv = Conv1d::<f32>::new(4, 8, 3).padding(1);
/// assert_eq!(conv.forward(&Tensor::zeros(&[2, 4, 10])).shape(), &[2, 8, 10]);
/// ```
#[derive(Debug, Clone)]
pub struct Conv1d<T: Float = f32> {
    core: ConvCore<T>,
}

impl<T: Float> Conv1d<T> {
    /// A layer from `in_channels` to `out_channels` with a kernel of `kernel_size`.
    ///
    /// ```
    /// use tapegrad::nn::Conv1d;
    /// assert_eq!(Conv1d::<f32>::new(3, 16, 5).weight().shape(), &[16, 3, 5]);
    /// ```
    pub fn new(in_channels: usize, out_channels: usize, kernel_size: usize) -> Self {
        Conv1d {
            core: ConvCore::new("Conv1d", in_channels, out_channels, [1, kernel_size]),
        }
    }

    fn set_stride(&mut self, s: usize) {
        self.core.params.stride = [1, s];
    }
    fn set_padding(&mut self, p: usize) {
        self.core.params.padding = [0, p];
    }
    fn set_dilation(&mut self, d: usize) {
        self.core.params.dilation = [1, d];
    }

    /// [`Module::forward`] returning an error (naming `Conv1d` and the shapes).
    ///
    /// ```
    /// use tapegrad::nn::Conv1d;
    /// use tapegrad::Tensor;
    /// let conv: Conv1d = Conv1d::new(2, 2, 3);
    /// assert!(conv.try_forward(&Tensor::zeros(&[1, 3, 8])).is_err()); // 3 channels, not 2
    /// ```
    #[track_caller]
    pub fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let _site = crate::autograd::anomaly::enter(std::panic::Location::caller());
        let p = self.core.params;
        try_conv1d(
            x,
            &self.core.weight,
            self.core.bias.as_ref(),
            p.stride[1],
            p.padding[1],
            p.dilation[1],
            p.groups,
        )
        .map_err(|e| Error::new(e.kind(), "Conv1d", e.message()))
    }
}

conv_layer!(Conv1d, "Conv1d");
