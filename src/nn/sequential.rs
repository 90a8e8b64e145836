//! `Sequential`: modules applied one after another.

use super::module::Mode;
use super::{Module, Params};
use crate::element::Float;
use crate::error::{or_panic, Error, Result};
use crate::Tensor;
use std::fmt;

/// Modules applied in order, like `nn.Sequential`. Children are named by their index, so a
/// `Linear` added first has parameters `"0.weight"` and `"0.bias"`; a parameter-free child
/// (such as [`Relu`](crate::nn::Relu)) still takes its index, as in PyTorch.
///
/// ```
/// use tapegrad::nn::{Linear, Module, Relu, Sequential};
/// use tapegrad::Tensor;
/// let model: Sequential = Sequential::new().add(Linear::new(4, 8)).add(Relu).add(Linear::new(8, 2));
/// let names: Vec<String> = model.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
/// assert_eq!(model.forward(&Tensor::ones(&[5, 4])).shape(), &[5, 2]);
/// ```
pub struct Sequential<T: Float = f32> {
    children: Vec<Box<dyn Module<T>>>,
    /// Each child's type name (`Linear`, `Conv2d`), for errors.
    names: Vec<&'static str>,
    mode: Mode,
}

impl<T: Float> Default for Sequential<T> {
    fn default() -> Self {
        Sequential {
            children: Vec::new(),
            names: Vec::new(),
            mode: Mode::default(),
        }
    }
}

impl<T: Float> Sequential<T> {
    /// An empty sequence (its forward returns the input unchanged).
    ///
    /// ```
    /// use tapegrad::nn::{Linear, Relu, Sequential};
    /// let empty: Sequential = Sequential::new();
    /// assert!(empty.is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `module`; it will be named by its index.
    ///
    /// ```
    /// use tapegrad::nn::{Linear, Relu, Sequential};
    /// let mlp: Sequential = Sequential::new().add(Linear::new(4, 8)).add(Relu).add(Linear::new(8, 2));
    /// assert_eq!(mlp.len(), 3);
    /// ```
    #[allow(clippy::should_implement_trait)] // API.md fixes the name, after PyTorch's `add_module`
    pub fn add<M: Module<T> + 'static>(mut self, module: M) -> Self {
        self.children.push(Box::new(module));
        self.names.push(short_type_name::<M>());
        self
    }

    /// [`Module::forward`] returning an error that names the child that failed, by index
    /// and type, before the child's own message.
    ///
    /// ```
    /// use tapegrad::nn::{Linear, Relu, Sequential};
    /// use tapegrad::Tensor;
    /// let mlp: Sequential = Sequential::new().add(Linear::new(4, 8)).add(Relu).add(Linear::new(7, 2));
    /// let e = mlp.try_forward(&Tensor::ones(&[3, 4])).unwrap_err();
    /// assert!(e.to_string().starts_with("Sequential: [2] (Linear): "), "{e}");
    /// ```
    #[track_caller]
    pub fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let _site = crate::autograd::anomaly::enter(std::panic::Location::caller());
        let named = |i: usize, e: Error| {
            Error::new(
                e.kind(),
                "Sequential",
                format!("[{i}] ({}): {e}", self.names[i]),
            )
        };
        let mut children = self.children.iter().enumerate();
        let Some((_, first)) = children.next() else {
            return Ok(x.clone());
        };
        let mut h = first.try_forward(x).map_err(|e| named(0, e))?;
        for (i, child) in children {
            h = child.try_forward(&h).map_err(|e| named(i, e))?;
        }
        Ok(h)
    }

    /// The number of children.
    ///
    /// ```
    /// use tapegrad::nn::{Linear, Relu, Sequential};
    /// assert_eq!(Sequential::<f32>::new().add(Relu).len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.children.len()
    }

    /// True if there are no children.
    ///
    /// ```
    /// use tapegrad::nn::{Linear, Relu, Sequential};
    /// assert!(!Sequential::<f32>::new().add(Relu).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    /// The child at `index`, like `model[index]` in PyTorch.
    ///
    /// ```
    /// use tapegrad::nn::{Linear, Relu, Sequential};
    /// use tapegrad::nn::Module;
    /// let net: Sequential = Sequential::new().add(Linear::new(4, 2));
    /// assert_eq!(net.get(0).unwrap().parameters().len(), 2);
    /// assert!(net.get(1).is_none());
    /// ```
    pub fn get(&self, index: usize) -> Option<&dyn Module<T>> {
        self.children.get(index).map(|m| &**m)
    }
}

impl<T: Float> Module<T> for Sequential<T> {
    /// Each child in turn. In anomaly mode, the ops of every child are reported at the
    /// line that called this `forward`.
    #[track_caller]
    fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
        or_panic(Sequential::try_forward(self, x))
    }

    #[track_caller]
    fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        Sequential::try_forward(self, x)
    }

    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        let mut named = Params::new();
        for (i, child) in self.children.iter().enumerate() {
            named = named.module(&i.to_string(), child);
        }
        named.into()
    }

    fn named_children(&self) -> Vec<(String, &dyn Module<T>)> {
        self.children
            .iter()
            .enumerate()
            .map(|(i, child)| (i.to_string(), &**child as &dyn Module<T>))
            .collect()
    }

    fn train(&self, on: bool) {
        self.mode.set(on);
        for child in &self.children {
            child.train(on);
        }
    }

    fn is_training(&self) -> bool {
        self.mode.get()
    }
}

impl<T: Float> fmt::Debug for Sequential<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self
            .named_parameters()
            .iter()
            .map(|(n, p)| format!("{n}: {:?}", p.shape()))
            .collect();
        f.debug_struct("Sequential")
            .field("children", &self.children.len())
            .field("parameters", &names)
            .finish()
    }
}

/// `M`'s name without its path and generic arguments: `Linear` for
/// `tapegrad::nn::linear::Linear<f32>`.
fn short_type_name<M>() -> &'static str {
    let full = std::any::type_name::<M>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}
