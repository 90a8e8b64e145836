//! Layers, losses and saving: the lecture's `torch.nn` step.
//!
//! - [`Module`]: anything with a `forward` and named parameters (PyTorch's `nn.Module`);
//! - [`Linear`], [`Sequential`], and the parameter-free [`Relu`], [`Sigmoid`], [`Tanh`];
//! - convolution and pooling: [`Conv1d`], [`Conv2d`], [`MaxPool2d`], [`AvgPool2d`], [`Flatten`];
//! - normalization and regularization: [`BatchNorm1d`], [`BatchNorm2d`], [`LayerNorm`],
//!   [`Dropout`], and [`Embedding`]; more activations: [`Gelu`], [`Silu`], [`LeakyRelu`],
//!   [`Softmax`];
//! - [`init`], [`clip_grad_norm_`], [`parameter_count`]: initialisation and training helpers;
//! - [`functional`]: losses and softmax, like `torch.nn.functional`;
//! - [`save`] / [`load`]: parameters to and from safetensors files, under the same names a
//!   PyTorch `state_dict()` uses, so weights move between the two.
//!
//! A module of your own is its struct, its `forward`, and one place that names its
//! parameters:
//!
//! ```
//! use tapegrad::nn::{self, Linear, Module, Params};
//! use tapegrad::Tensor;
//!
//! struct MyOneLayerNet {
//!     linear: Linear,
//! }
//!
//! impl Module for MyOneLayerNet {
//!     fn forward(&self, x: &Tensor) -> Tensor {
//!         self.linear.forward(x)
//!     }
//!     fn named_parameters(&self) -> Vec<(String, Tensor)> {
//!         Params::new().module("linear", &self.linear).into()
//!     }
//! }
//!
//! let net = MyOneLayerNet { linear: Linear::new(4, 2) };
//! let names: Vec<String> = net.named_parameters().into_iter().map(|(n, _)| n).collect();
//! assert_eq!(names, ["linear.weight", "linear.bias"]); // as in PyTorch's state_dict()
//! let y = net.forward(&Tensor::randn(&[64, 4]));
//! assert_eq!(y.shape(), &[64, 2]);
//! ```

mod activation;
mod clip;
mod conv;
mod dropout;
pub mod functional;
pub mod init;
mod linear;
mod module;
mod norm;
mod pool;
mod safetensors_io;
mod sequential;

pub use activation::{Gelu, LeakyRelu, Relu, Sigmoid, Silu, Softmax, Tanh};
pub use clip::{clip_grad_norm_, clip_grad_value_, parameter_count};
pub use conv::{Conv1d, Conv2d};
pub use dropout::{Dropout, Embedding};
pub use linear::Linear;
pub use module::{Module, Params};
pub use norm::{BatchNorm1d, BatchNorm2d, LayerNorm};
pub use pool::{AvgPool2d, Flatten, MaxPool2d};
pub use safetensors_io::{load, load_tensors, save, save_tensors, DynTensor};
pub(crate) use safetensors_io::{read_tensors, write_tensors};
pub use sequential::Sequential;
