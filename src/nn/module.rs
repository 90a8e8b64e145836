//! The `Module` trait and `Params`, the one place a module names its parameters.

use crate::element::Float;
use crate::Tensor;

/// A layer or a whole model: a `forward` and its parameters by name, like `nn.Module`.
///
/// Implement `forward` and `named_parameters`; `parameters` and `zero_grad` come with the
/// trait. Names follow PyTorch's `state_dict()`: a child module's parameters are prefixed
/// with the child's name and a dot (`"linear.weight"`, `"0.bias"`), which is what
/// [`Params`] does for you.
///
/// The trait is object safe: [`Sequential`](crate::nn::Sequential) holds its children as
/// `Box<dyn Module<T>>`. Every module is `Send + Sync` (tensors are), so a model can be built
/// in one thread and trained in another; the compiler says so if a field is not.
///
/// ```
/// use tapegrad::nn::{Linear, Module};
/// let layer: Linear = Linear::new(4, 2);
/// let names: Vec<String> = layer.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["weight", "bias"]);
/// ```
pub trait Module<T: Float = f32>: Send + Sync {
    /// Runs the module on `x`, recording the ops on the tape like any tensor math.
    fn forward(&self, x: &Tensor<T>) -> Tensor<T>;

    /// Every parameter with its `state_dict` name, in a fixed order (the order optimizers
    /// and files see them in).
    fn named_parameters(&self) -> Vec<(String, Tensor<T>)>;

    /// The parameters without their names (handles to the same tensors), e.g. for an
    /// optimizer: `Adam::new(model.parameters(), 1e-3)`.
    fn parameters(&self) -> Vec<Tensor<T>> {
        self.named_parameters()
            .into_iter()
            .map(|(_, p)| p)
            .collect()
    }

    /// Drops every parameter's gradient, like PyTorch's `module.zero_grad()` (which sets
    /// them to `None` by default). The next backward writes fresh ones.
    fn zero_grad(&self) {
        for p in self.parameters() {
            p.clear_grad();
        }
    }
}

impl<T: Float, M: Module<T> + ?Sized> Module<T> for Box<M> {
    fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
        (**self).forward(x)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        (**self).named_parameters()
    }
}

impl<T: Float, M: Module<T> + ?Sized> Module<T> for &M {
    fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
        (**self).forward(x)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        (**self).named_parameters()
    }
}

/// Builds a module's `named_parameters` list: tensors it owns directly, and child modules
/// whose parameters get the child's name as a prefix, as in a PyTorch `state_dict`.
///
/// ```
/// use tapegrad::nn::{Linear, Module, Params};
/// use tapegrad::Tensor;
///
/// let encoder = Linear::new(4, 3);
/// let scale: Tensor = Tensor::ones(&[3]).requires_grad_(true);
/// let named: Vec<(String, Tensor)> =
///     Params::new().module("encoder", &encoder).tensor("scale", &scale).into();
/// let names: Vec<&str> = named.iter().map(|(n, _)| n.as_str()).collect();
/// assert_eq!(names, ["encoder.weight", "encoder.bias", "scale"]);
/// ```
#[derive(Debug, Clone)]
pub struct Params<T: Float = f32>(Vec<(String, Tensor<T>)>);

impl<T: Float> Default for Params<T> {
    fn default() -> Self {
        Params(Vec::new())
    }
}

impl<T: Float> Params<T> {
    /// An empty list.
    ///
    /// ```
    /// use tapegrad::nn::Params;
    /// let none: Vec<(String, tapegrad::Tensor)> = Params::new().into();
    /// assert!(none.is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a tensor the module owns directly, under `name` (PyTorch's `nn.Parameter`).
    ///
    /// ```
    /// use tapegrad::nn::Params;
    /// use tapegrad::Tensor;
    /// let scale: Tensor = Tensor::ones(&[3]).requires_grad_(true);
    /// let named: Vec<(String, Tensor)> = Params::new().tensor("scale", &scale).into();
    /// assert_eq!(named[0].0, "scale");
    /// ```
    pub fn tensor(mut self, name: &str, tensor: &Tensor<T>) -> Self {
        self.0.push((name.to_string(), tensor.clone()));
        self
    }

    /// Adds every parameter of the child module `name`, as `"name.<its name>"`.
    ///
    /// ```
    /// use tapegrad::nn::{Linear, Params};
    /// use tapegrad::Tensor;
    /// let named: Vec<(String, Tensor)> = Params::new().module("head", &Linear::new(3, 1)).into();
    /// assert_eq!(named[1].0, "head.bias");
    /// ```
    pub fn module(mut self, name: &str, module: &(impl Module<T> + ?Sized)) -> Self {
        for (child, tensor) in module.named_parameters() {
            self.0.push((format!("{name}.{child}"), tensor));
        }
        self
    }
}

impl<T: Float> From<Params<T>> for Vec<(String, Tensor<T>)> {
    fn from(params: Params<T>) -> Self {
        params.0
    }
}
