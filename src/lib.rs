//! # tapegrad
//!
//! Tensors with automatic differentiation, neural-network layers, optimizers and a static
//! graph, in plain Rust on the CPU, with PyTorch's names and PyTorch's numbers.
//!
//! - **Tensors**: [`Tensor`], n-dimensional and strided, of `f32` (the default), `f64`,
//!   `i64` or `bool`, with broadcasting math, reductions, indexing, views, matmul (through
//!   the pure-Rust gemm kernels, AVX-512 where the CPU has it) and convolutions.
//! - **Autograd**: a dynamic tape, as in PyTorch: [`Tensor::requires_grad_`],
//!   [`Tensor::backward`], [`no_grad`], [`autograd::grad`] with `create_graph` for higher
//!   derivatives, [`autograd::functional`] (`hvp`, `jacobian`, `hessian`), hooks, anomaly
//!   detection, and `gradcheck`.
//! - **Models and training**: [`nn`] (`Linear`, `Conv2d`, `BatchNorm2d`, `Sequential`,
//!   your own [`nn::Module`], losses, safetensors files PyTorch reads), [`optim`] (`Sgd`,
//!   `Adam`, `AdamW`, learning-rate schedulers, checkpoints), [`data`] (`DataLoader`, MNIST).
//! - **A static graph**: [`graph`], define first and run many times, TensorFlow 1 style.
//!
//! ```
//! use tapegrad::nn::{functional::mse_loss, Linear, Module, Relu, Sequential};
//! use tapegrad::optim::{Adam, Optimizer};
//! use tapegrad::Tensor;
//!
//! tapegrad::manual_seed(0);
//! let x: Tensor = Tensor::randn(&[64, 4]);
//! let y: Tensor = Tensor::randn(&[64, 2]);
//! let model: Sequential = Sequential::new()
//!     .add(Linear::new(4, 16))
//!     .add(Relu)
//!     .add(Linear::new(16, 2));
//! let mut optimizer = Adam::new(model.parameters(), 1e-2);
//! let first = mse_loss(&model.forward(&x), &y).item();
//! for _ in 0..200 {
//!     let loss = mse_loss(&model.forward(&x), &y);
//!     optimizer.zero_grad();
//!     loss.backward();
//!     optimizer.step();
//! }
//! assert!(mse_loss(&model.forward(&x), &y).item() < first);
//! ```
//!
//! Every fallible method has a `try_` twin returning [`Result`] with an [`Error`] that
//! names the op and the shapes; the plain method panics with the same text.
//!
//! ## The lecture tour
//!
//! tapegrad is built in the layers of a first deep-learning lecture: "the world's
//! simplest neural network", which tells a dog from a wolf by four features (ear, eye,
//! tongue, tail). Each section of the lecture maps onto one layer of the crate and one
//! example, which keeps the slides' names and sizes (and prints the slides' own numbers
//! beside the right ones where the slides' arithmetic is wrong):
//!
//! | lecture section | tapegrad | example |
//! |---|---|---|
//! | 2. the worked example by hand | [`Tensor`], [`Tensor::backward`] | `examples/01_dog_vs_wolf.rs` |
//! | 3. NumPy, manual gradient | [`Tensor`] ops, no autograd | `examples/02_numpy_style.rs` |
//! | 4 (1) PyTorch tensors on a device | [`Device`], [`Tensor::to_device`] | `examples/03_torch_manual.rs` |
//! | 4 (2) autograd, `no_grad` | [`autograd`], [`no_grad`] | `examples/04_autograd.rs` |
//! | 4 (3) `nn.Sequential`, `nn.Linear`, `mse_loss` | [`nn`] | `examples/05_nn.rs` |
//! | 4 (4) `optim.Adam`, `optim.SGD` | [`optim`] | `examples/06_optim.rs` |
//! | 4 (5) your own `nn.Module` | [`nn::Module`] | `examples/07_custom_module.rs` |
//! | 5. TensorFlow's static graph | [`graph`] | `examples/08_static_graph.rs` |
//! | beyond the slides: a dog-or-wolf classifier, saved and reloaded | [`nn`], [`optim`] | `examples/dog_vs_wolf_classifier.rs` |
//! | all of the above, one table | | `examples/lecture.rs` |
//!
//! ```
//! use tapegrad::{no_grad, Tensor};
//! // The lecture's network: y_pred = x @ w, loss = sum((y_pred - y)^2), a gradient step.
//! let x: Tensor = Tensor::randn(&[64, 4]);
//! let y: Tensor = Tensor::randn(&[64, 2]);
//! let w: Tensor = Tensor::randn(&[4, 2]).requires_grad_(true);
//! let loss = (x.mm(&w) - &y).pow(2.0).sum();
//! loss.backward();
//! no_grad(|| w.sub_(&(w.grad().unwrap() * 1e-6)));
//! w.zero_grad();
//! ```
//!
//! ## The layers
//!
//! - `array` (internal): storage, strided layouts and the kernels. No autograd.
//! - `ops` (internal): every op defined once — name, shape rule, kernel call, what it saves
//!   and its chain rule — for the tape and the static graph alike (CONTRIBUTING.md has the
//!   checklist for adding one).
//! - [`Tensor`]: a cheap-to-clone handle over an array, with the math API. Its element type
//!   is an [`Element`] (`f32`, `f64`, `i64`, `bool`); math and autograd need [`Float`].
//!   Every `dim` argument is a [`Dim`]: a `usize`, or a negative index from the end.
//! - [`autograd`]: the tape that records ops and walks them back.
//! - [`nn`]: modules (`Linear`, `Sequential`, your own), losses, and safetensors files.
//! - [`optim`]: `Sgd`, `Adam`, `AdamW`, following PyTorch's algorithms step for step.
//! - [`graph`]: the static, define-then-run graph, on the same ops and chain rules.
//!
//! ## How the tape works
//!
//! When an op runs and one of its inputs requires grad, the result gets a *node*: the
//! op that made it, an edge to each input (another node, or a leaf tensor
//! whose `.grad` should receive a gradient), and only the values its gradient rule needs
//! (`mul` keeps both inputs, `exp` keeps its output, `add` keeps nothing but shapes).
//! Nothing is global: the nodes are owned by the tensors that reach them, so when a step's
//! loss is dropped its graph is freed.
//!
//! ```text
//!   x ──┐                      loss.backward():
//!       ├─ mm ── sub ── pow ── sum      1. seed d(loss)/d(loss) = 1
//!   w ──┘        │                      2. visit nodes newest-first (each node's `seq`
//!   (leaf,       y                         is larger than its inputs'), apply each
//!    requires                              node's chain rule, pass gradients on
//!    grad)                              3. at a leaf, add into w.grad()
//! ```
//!
//! Visiting nodes by decreasing creation number is a topological order: every consumer of
//! a value runs before the value's own node, so its gradient is complete when used. Each
//! op's chain rule lives beside its forward (`src/ops/`), written over a small trait so
//! the same rules also build the static graph's gradient nodes.
#![warn(missing_docs)]

mod array;
pub mod autograd;
pub mod data;
mod device;
mod dim;
mod element;
mod error;
pub mod graph;
pub mod nn;
mod operators;
mod ops;
pub mod optim;
mod rng;
pub mod shape;
mod slots;
mod tensor;
mod unique;

pub use array::matmul::{get_num_threads, set_num_threads};
pub use autograd::{no_grad, no_grad_guard, NoGradGuard};
pub use device::Device;
pub use dim::{Dim, IndexItem, IndexOp, Rhs, ShapeArg, TensorIndex, TensorIndexItem};
pub use element::{DType, Element, Float};
pub use error::{Error, ErrorKind, Result};
pub use rng::manual_seed;
pub use tensor::Tensor;
