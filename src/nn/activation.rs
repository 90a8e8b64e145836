//! Parameter-free layers: `Relu`, `Sigmoid`, `Tanh`, `Gelu`, `Silu`, `LeakyRelu`, `Softmax`.

use super::Module;
use crate::element::Float;
use crate::error::or_panic;
use crate::Tensor;

macro_rules! activation {
    ($($(#[$doc:meta])* $name:ident => $method:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct $name;

        impl<T: Float> Module<T> for $name {
            fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
                x.$method()
            }
            fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
                Vec::new()
            }
        }
    )*};
}

activation! {
    /// `max(x, 0)` as a layer, like `nn.ReLU()`.
    ///
    /// ```
    /// use tapegrad::nn::{Linear, Relu, Sequential};
    /// let mlp: Sequential = Sequential::new().add(Linear::new(4, 8)).add(Relu).add(Linear::new(8, 2));
    /// assert_eq!(mlp.len(), 3);
    /// ```
    Relu => relu;
    /// The logistic function as a layer, like `nn.Sigmoid()`.
    ///
    /// ```
    /// use tapegrad::nn::{Module, Sigmoid};
    /// use tapegrad::Tensor;
    /// assert_eq!(Module::<f32>::forward(&Sigmoid, &Tensor::zeros(&[1])).item(), 0.5);
    /// ```
    Sigmoid => sigmoid;
    /// Hyperbolic tangent as a layer, like `nn.Tanh()`.
    ///
    /// ```
    /// use tapegrad::nn::{Module, Tanh};
    /// use tapegrad::Tensor;
    /// assert_eq!(Module::<f64>::forward(&Tanh, &Tensor::zeros(&[1])).item(), 0.0);
    /// ```
    Tanh => tanh;
    /// GELU, `x Φ(x)`, as a layer, like `nn.GELU()`.
    ///
    /// ```
    /// use tapegrad::nn::{Gelu, Module};
    /// use tapegrad::Tensor;
    /// assert_eq!(Module::<f64>::forward(&Gelu, &Tensor::zeros(&[1])).item(), 0.0);
    /// ```
    Gelu => gelu;
    /// SiLU (swish), `x σ(x)`, as a layer, like `nn.SiLU()`.
    ///
    /// ```
    /// use tapegrad::nn::{Module, Silu};
    /// use tapegrad::Tensor;
    /// assert_eq!(Module::<f64>::forward(&Silu, &Tensor::zeros(&[1])).item(), 0.0);
    /// ```
    Silu => silu;
}

/// `x` where `x > 0`, else `negative_slope · x`, like `nn.LeakyReLU(negative_slope)`
/// (`LeakyRelu::default()` has PyTorch's slope 0.01).
///
/// ```
/// use tapegrad::nn::{LeakyRelu, Module};
/// use tapegrad::Tensor;
/// let y = Module::<f64>::forward(&LeakyRelu::new(0.1), &Tensor::from_vec(vec![-2.0, 3.0], &[2]));
/// assert_eq!(y.to_vec(), vec![-0.2, 3.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeakyRelu {
    negative_slope: f64,
}

impl LeakyRelu {
    /// A layer with the given slope for negative inputs.
    ///
    /// ```
    /// use tapegrad::nn::LeakyRelu;
    /// assert_eq!(LeakyRelu::new(0.2), LeakyRelu::new(0.2));
    /// ```
    pub fn new(negative_slope: f64) -> Self {
        LeakyRelu { negative_slope }
    }
}

impl Default for LeakyRelu {
    fn default() -> Self {
        LeakyRelu::new(0.01)
    }
}

impl<T: Float> Module<T> for LeakyRelu {
    fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
        x.leaky_relu(T::from(self.negative_slope).unwrap_or_else(T::nan))
    }
    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        Vec::new()
    }
}

/// Softmax along `dim` as a layer, like `nn.Softmax(dim)`.
///
/// ```
/// use tapegrad::nn::{Module, Softmax};
/// use tapegrad::Tensor;
/// let y = Module::<f64>::forward(&Softmax::new(1), &Tensor::zeros(&[2, 4]));
/// assert_eq!(y.to_vec(), vec![0.25; 8]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Softmax {
    dim: i64,
}

impl Softmax {
    /// Softmax along `dim`: a `usize` or a negative integer counting from the end.
    ///
    /// ```
    /// use tapegrad::nn::Softmax;
    /// assert_eq!(Softmax::new(-1), Softmax::new(-1));
    /// let _ = Softmax::new(1usize);
    /// ```
    pub fn new(dim: impl crate::Dim) -> Self {
        Softmax {
            dim: dim.signed_index(),
        }
    }
}

impl<T: Float> Module<T> for Softmax {
    #[track_caller]
    fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
        or_panic(super::functional::try_softmax(x, self.dim))
    }
    fn try_forward(&self, x: &Tensor<T>) -> crate::Result<Tensor<T>> {
        super::functional::try_softmax(x, self.dim)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        Vec::new()
    }
}
