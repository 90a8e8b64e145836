//! Parameter-free layers that reshape: `MaxPool2d`, `AvgPool2d`, `Flatten`.

use super::functional::{try_avg_pool2d, try_max_pool2d};
use super::Module;
use crate::element::Float;
use crate::error::{or_panic, Error, Result};
use crate::Tensor;

macro_rules! pool_layer {
    ($(#[$doc:meta])* $name:ident, $label:literal, $f:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name {
            kernel: usize,
            stride: usize,
            padding: usize,
        }

        impl $name {
            /// A pooling over `kernel_size` x `kernel_size` windows, with the stride equal
            /// to the kernel size and no padding (PyTorch's defaults).
            ///
            /// ```
            #[doc = concat!("use tapegrad::nn::", stringify!($name), ";")]
            #[doc = concat!("let pool = ", stringify!($name), "::new(2);")]
            /// # let _ = pool;
            /// ```
            pub fn new(kernel_size: usize) -> Self {
                $name {
                    kernel: kernel_size,
                    stride: kernel_size,
                    padding: 0,
                }
            }

            /// The step between windows.
            ///
            /// ```
            #[doc = concat!("use tapegrad::nn::{", stringify!($name), ", Module};")]
            /// use tapegrad::Tensor;
            #[doc = concat!("let pool = ", stringify!($name), "::new(3).stride(1);")]
            /// assert_eq!(Module::<f32>::forward(&pool, &Tensor::zeros(&[1, 5, 5])).shape(), &[1, 3, 3]);
            /// ```
            pub fn stride(mut self, stride: usize) -> Self {
                self.stride = stride;
                self
            }

            /// Padding on every side (at most half the kernel).
            ///
            /// ```
            #[doc = concat!("use tapegrad::nn::{", stringify!($name), ", Module};")]
            /// use tapegrad::Tensor;
            #[doc = concat!("let pool = ", stringify!($name), "::new(2).padding(1);")]
            /// assert_eq!(Module::<f32>::forward(&pool, &Tensor::zeros(&[1, 4, 4])).shape(), &[1, 3, 3]);
            /// ```
            pub fn padding(mut self, padding: usize) -> Self {
                self.padding = padding;
                self
            }

            /// [`Module::forward`] returning an error naming the layer and the shapes.
            ///
            /// ```
            #[doc = concat!("use tapegrad::nn::", stringify!($name), ";")]
            /// use tapegrad::Tensor;
            #[doc = concat!("assert!(", stringify!($name), "::new(3).try_forward(&Tensor::<f32>::zeros(&[1, 2, 2])).is_err());")]
            /// ```
            #[track_caller]
            pub fn try_forward<T: Float>(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
                let _site = crate::autograd::anomaly::enter(std::panic::Location::caller());
                $f(x, self.kernel, self.stride, self.padding)
                    .map_err(|e| Error::new(e.kind(), $label, e.message()))
            }
        }

        impl<T: Float> Module<T> for $name {
            #[track_caller]
            fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
                or_panic(self.try_forward(x))
            }
            fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
                Self::try_forward(self, x)
            }
            fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
                Vec::new()
            }
        }
    };
}

pool_layer! {
    /// The maximum of each window, like `nn.MaxPool2d(kernel)`, over `[N, C, H, W]` or
    /// `[C, H, W]`.
    ///
    /// ```
    /// use tapegrad::nn::{MaxPool2d, Module};
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::arange(0.0, 16.0, 1.0).reshape(&[1, 1, 4, 4]);
    /// assert_eq!(MaxPool2d::new(2).forward(&x).to_vec(), vec![5.0, 7.0, 13.0, 15.0]);
    /// ```
    MaxPool2d, "MaxPool2d", try_max_pool2d
}

pool_layer! {
    /// The mean of each window, like `nn.AvgPool2d(kernel)` (padding counts in the mean).
    ///
    /// ```
    /// use tapegrad::nn::{AvgPool2d, Module};
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::arange(0.0, 16.0, 1.0).reshape(&[1, 1, 4, 4]);
    /// assert_eq!(AvgPool2d::new(2).forward(&x).to_vec(), vec![2.5, 4.5, 10.5, 12.5]);
    /// ```
    AvgPool2d, "AvgPool2d", try_avg_pool2d
}

/// Flattens dims `start_dim..=end_dim` into one, like `nn.Flatten()` (dims 1 to the last,
/// keeping the batch dim).
///
/// ```
/// use tapegrad::nn::{Flatten, Module};
/// use tapegrad::Tensor;
/// let y = Module::<f32>::forward(&Flatten::new(), &Tensor::zeros(&[8, 16, 4, 4]));
/// assert_eq!(y.shape(), &[8, 256]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flatten {
    start_dim: i64,
    end_dim: i64,
}

impl Default for Flatten {
    fn default() -> Self {
        Flatten::new()
    }
}

impl Flatten {
    /// Flattens every dim after the first.
    ///
    /// ```
    /// use tapegrad::nn::Flatten;
    /// assert_eq!(Flatten::new(), Flatten::with_dims(1, -1));
    /// ```
    pub fn new() -> Self {
        Flatten::with_dims(1, -1)
    }

    /// Flattens dims `start_dim..=end_dim` (negative counts from the end), like
    /// `nn.Flatten(start_dim, end_dim)`.
    ///
    /// ```
    /// use tapegrad::nn::{Flatten, Module};
    /// use tapegrad::Tensor;
    /// let y = Module::<f32>::forward(&Flatten::with_dims(0, 1), &Tensor::zeros(&[2, 3, 4]));
    /// assert_eq!(y.shape(), &[6, 4]);
    /// ```
    pub fn with_dims(start_dim: i64, end_dim: i64) -> Self {
        Flatten { start_dim, end_dim }
    }
}

impl<T: Float> Module<T> for Flatten {
    #[track_caller]
    fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
        or_panic(
            x.try_flatten(self.start_dim, self.end_dim)
                .map_err(|e| Error::new(e.kind(), "Flatten", e.message())),
        )
    }
    fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        x.try_flatten(self.start_dim, self.end_dim)
            .map_err(|e| Error::new(e.kind(), "Flatten", e.message()))
    }
    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        Vec::new()
    }
}
