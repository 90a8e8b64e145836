//! The `Module` trait and `Params`, the one place a module names its parameters.

use super::DynTensor;
use crate::element::Float;
use crate::Tensor;
use std::sync::atomic::{AtomicBool, Ordering};

/// A layer or a whole model: a `forward` and its parameters by name, like `nn.Module`.
///
/// Implement `forward` and `named_parameters`; `parameters` and `zero_grad` come with the
/// trait. Names follow PyTorch's `state_dict()`: a child module's parameters are prefixed
/// with the child's name and a dot (`"linear.weight"`, `"0.bias"`), which is what
/// [`Params`] does for you.
///
/// Training and evaluation mode work as in PyTorch: a new module is in training mode,
/// `train(false)` (or `eval()`) switches it and every child, and layers like
/// [`Dropout`](crate::nn::Dropout) and [`BatchNorm2d`](crate::nn::BatchNorm2d) act on it.
/// A module of your own reaches its children through [`named_children`](Module::named_children),
/// which also gives [`named_buffers`](Module::named_buffers) (running statistics) their
/// prefixed names.
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

    /// [`forward`](Module::forward) returning an error (an input that does not fit)
    /// instead of panicking. Every layer of tapegrad returns its error here, and
    /// [`Sequential`](crate::nn::Sequential) adds which child failed. By default it calls
    /// `forward`, so a module of your own that can fail should override it.
    ///
    /// ```
    /// use tapegrad::nn::{Linear, Module};
    /// use tapegrad::Tensor;
    /// let layer: Box<dyn Module> = Box::new(Linear::new(4, 2));
    /// assert!(layer.try_forward(&Tensor::ones(&[3, 5])).is_err());
    /// ```
    fn try_forward(&self, x: &Tensor<T>) -> crate::Result<Tensor<T>> {
        Ok(self.forward(x))
    }

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

    /// The modules this one holds, by name (PyTorch's `named_children()`): what
    /// [`train`](Module::train) switches and [`named_buffers`](Module::named_buffers)
    /// collects. None by default; a container or a model of your own lists its layers
    /// here, under the names its `named_parameters` uses.
    ///
    /// ```
    /// use tapegrad::nn::{Dropout, Linear, Module, Sequential};
    /// let model: Sequential = Sequential::new().add(Linear::new(4, 8)).add(Dropout::new(0.5));
    /// let names: Vec<String> = model.named_children().into_iter().map(|(n, _)| n).collect();
    /// assert_eq!(names, ["0", "1"]);
    /// ```
    fn named_children(&self) -> Vec<(String, &dyn Module<T>)> {
        Vec::new()
    }

    /// State that is not a parameter (no gradient, not optimized) but belongs in a saved
    /// model: `BatchNorm`'s `running_mean`, `running_var` and `num_batches_tracked`, under
    /// PyTorch's `state_dict` names. By default the children's, prefixed with their names.
    ///
    /// ```
    /// use tapegrad::nn::{BatchNorm1d, Linear, Module, Sequential};
    /// let model: Sequential = Sequential::new().add(Linear::new(4, 3)).add(BatchNorm1d::new(3));
    /// let names: Vec<String> = model.named_buffers().into_iter().map(|(n, _)| n).collect();
    /// assert_eq!(names, ["1.running_mean", "1.running_var", "1.num_batches_tracked"]);
    /// ```
    fn named_buffers(&self) -> Vec<(String, DynTensor)> {
        let mut out = Vec::new();
        for (name, child) in self.named_children() {
            for (buffer, tensor) in child.named_buffers() {
                out.push((format!("{name}.{buffer}"), tensor));
            }
        }
        out
    }

    /// Parameters and buffers by name: everything PyTorch's `state_dict()` holds, and what
    /// [`nn::save`](crate::nn::save) writes. The tensors are handles to the module's own.
    ///
    /// ```
    /// use tapegrad::nn::{BatchNorm1d, Module};
    /// let bn: BatchNorm1d = BatchNorm1d::new(3);
    /// assert_eq!(bn.state_dict().len(), 5); // weight, bias and three buffers
    /// ```
    fn state_dict(&self) -> Vec<(String, DynTensor)> {
        let mut out: Vec<(String, DynTensor)> = self
            .named_parameters()
            .into_iter()
            .map(|(n, p)| (n, DynTensor::from_float(p)))
            .collect();
        out.extend(self.named_buffers());
        out
    }

    /// Switches training mode on or off, for this module and every child, like PyTorch's
    /// `module.train(mode)`. By default it only passes the switch to the children; a layer
    /// with a mode of its own keeps it.
    ///
    /// ```
    /// use tapegrad::nn::{Dropout, Linear, Module, Sequential};
    /// let model: Sequential = Sequential::new().add(Linear::new(4, 8)).add(Dropout::new(0.5));
    /// assert!(model.is_training());
    /// model.train(false);
    /// assert!(!model.is_training() && !model.get(1).unwrap().is_training());
    /// ```
    fn train(&self, on: bool) {
        for (_, child) in self.named_children() {
            child.train(on);
        }
    }

    /// `train(false)`: evaluation mode, like PyTorch's `module.eval()`.
    ///
    /// ```
    /// use tapegrad::nn::{Dropout, Module};
    /// let drop = Dropout::new(0.5);
    /// Module::<f32>::eval(&drop);
    /// assert!(!Module::<f32>::is_training(&drop));
    /// ```
    fn eval(&self) {
        self.train(false);
    }

    /// Whether the module is in training mode (PyTorch's `module.training`). By default
    /// that of its first child; true for a module with no mode and no children (like
    /// [`Relu`](crate::nn::Relu), which acts the same in both).
    ///
    /// ```
    /// use tapegrad::nn::{Linear, Module};
    /// let layer: Linear = Linear::new(2, 1);
    /// assert!(layer.is_training()); // new modules train, as in PyTorch
    /// ```
    fn is_training(&self) -> bool {
        self.named_children()
            .first()
            .is_none_or(|(_, child)| child.is_training())
    }
}

impl<T: Float, M: Module<T> + ?Sized> Module<T> for Box<M> {
    fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
        (**self).forward(x)
    }
    fn try_forward(&self, x: &Tensor<T>) -> crate::Result<Tensor<T>> {
        (**self).try_forward(x)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        (**self).named_parameters()
    }
    fn named_children(&self) -> Vec<(String, &dyn Module<T>)> {
        (**self).named_children()
    }
    fn named_buffers(&self) -> Vec<(String, DynTensor)> {
        (**self).named_buffers()
    }
    fn train(&self, on: bool) {
        (**self).train(on)
    }
    fn is_training(&self) -> bool {
        (**self).is_training()
    }
}

impl<T: Float, M: Module<T> + ?Sized> Module<T> for &M {
    fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
        (**self).forward(x)
    }
    fn try_forward(&self, x: &Tensor<T>) -> crate::Result<Tensor<T>> {
        (**self).try_forward(x)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        (**self).named_parameters()
    }
    fn named_children(&self) -> Vec<(String, &dyn Module<T>)> {
        (**self).named_children()
    }
    fn named_buffers(&self) -> Vec<(String, DynTensor)> {
        (**self).named_buffers()
    }
    fn train(&self, on: bool) {
        (**self).train(on)
    }
    fn is_training(&self) -> bool {
        (**self).is_training()
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

/// A layer's training flag (PyTorch's `module.training`), settable through `&self` as the
/// `Module` methods are. A clone starts with the same value and then goes its own way.
#[derive(Debug)]
pub(crate) struct Mode(AtomicBool);

impl Default for Mode {
    fn default() -> Self {
        Mode(AtomicBool::new(true))
    }
}

impl Clone for Mode {
    fn clone(&self) -> Self {
        Mode(AtomicBool::new(self.get()))
    }
}

impl Mode {
    pub(crate) fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
    pub(crate) fn set(&self, on: bool) {
        self.0.store(on, Ordering::Relaxed);
    }
}
