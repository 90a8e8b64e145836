//! Parameter-free layers: `Relu`, `Sigmoid`, `Tanh`.

use super::Module;
use crate::element::Float;
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
}
