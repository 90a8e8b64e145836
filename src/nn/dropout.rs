//! `Dropout` and `Embedding`.

use super::functional::{try_dropout, try_embedding};
use super::module::Mode;
use super::Module;
use crate::element::Float;
use crate::error::{or_panic, Error, ErrorKind, Result};
use crate::Tensor;

/// Zeroes each element with probability `p` in training mode and scales the rest by
/// `1 / (1 - p)`; in evaluation mode it passes its input through. Like `nn.Dropout(p)`.
///
/// ```
/// use tapegrad::nn::{Dropout, Module};
/// use tapegrad::Tensor;
/// let drop = Dropout::new(0.5);
/// let x: Tensor = Tensor::ones(&[1000]);
/// let y = drop.forward(&x).to_vec();
/// assert!(y.iter().any(|&v| v == 0.0) && y.iter().any(|&v| v == 2.0));
/// Module::<f32>::train(&drop, false);
/// assert_eq!(drop.forward(&x).to_vec(), x.to_vec());
/// ```
#[derive(Debug, Clone)]
pub struct Dropout {
    p: f64,
    mode: Mode,
}

impl Dropout {
    /// A dropout layer that drops with probability `p`. Panics unless `0 <= p <= 1`; see
    /// [`Dropout::try_new`].
    ///
    /// ```
    /// use tapegrad::nn::Dropout;
    /// assert_eq!(Dropout::new(0.25).p(), 0.25);
    /// ```
    #[track_caller]
    pub fn new(p: f64) -> Self {
        or_panic(Dropout::try_new(p))
    }

    /// [`Dropout::new`] returning an error for `p` outside `[0, 1]`.
    ///
    /// ```
    /// use tapegrad::nn::Dropout;
    /// assert!(Dropout::try_new(1.5).is_err());
    /// ```
    pub fn try_new(p: f64) -> Result<Self> {
        if !(0.0..=1.0).contains(&p) {
            return Err(Error::new(
                ErrorKind::Value,
                "Dropout",
                format!("probability must be in [0, 1], got {p}"),
            ));
        }
        Ok(Dropout {
            p,
            mode: Mode::default(),
        })
    }

    /// The drop probability.
    ///
    /// ```
    /// use tapegrad::nn::Dropout;
    /// assert_eq!(Dropout::new(0.1).p(), 0.1);
    /// ```
    pub fn p(&self) -> f64 {
        self.p
    }
}

impl<T: Float> Module<T> for Dropout {
    #[track_caller]
    fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
        let p = T::from(self.p).unwrap_or_else(T::nan);
        or_panic(try_dropout(x, p, self.mode.get()))
    }
    fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        try_dropout(x, T::from(self.p).unwrap_or_else(T::nan), self.mode.get())
    }
    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        Vec::new()
    }
    fn train(&self, on: bool) {
        self.mode.set(on);
    }
    fn is_training(&self) -> bool {
        self.mode.get()
    }
}

/// A lookup table of `num_embeddings` vectors of length `embedding_dim`, like
/// `nn.Embedding(num, dim)`: the weight is drawn from N(0, 1), and `forward` takes class
/// indices (`Tensor<i64>`), returning their rows with the indices' shape plus `dim`.
///
/// ```
/// use tapegrad::nn::Embedding;
/// use tapegrad::Tensor;
/// let table: Embedding = Embedding::new(10, 3);
/// let ids = Tensor::from_vec(vec![1i64, 7, 7, 0], &[2, 2]);
/// assert_eq!(table.forward(&ids).shape(), &[2, 2, 3]);
/// assert!(table.try_forward(&Tensor::from_vec(vec![10i64], &[1])).is_err()); // out of range
/// ```
#[derive(Debug, Clone)]
pub struct Embedding<T: Float = f32> {
    weight: Tensor<T>,
    mode: Mode,
}

impl<T: Float> Embedding<T> {
    /// A table of `num_embeddings` rows of `embedding_dim`, drawn from N(0, 1).
    ///
    /// ```
    /// use tapegrad::nn::Embedding;
    /// assert_eq!(Embedding::<f32>::new(5, 2).weight().shape(), &[5, 2]);
    /// ```
    pub fn new(num_embeddings: usize, embedding_dim: usize) -> Self {
        Embedding {
            weight: Tensor::randn(&[num_embeddings, embedding_dim]).requires_grad_(true),
            mode: Mode::default(),
        }
    }

    /// A table with the given rows (`[num, dim]`), which become a parameter, like
    /// `nn.Embedding.from_pretrained(weight, freeze=False)`.
    ///
    /// ```
    /// use tapegrad::nn::Embedding;
    /// use tapegrad::Tensor;
    /// let e = Embedding::from_weight(Tensor::<f64>::eye(3));
    /// assert_eq!(e.forward(&Tensor::from_vec(vec![2i64], &[1])).to_vec(), vec![0.0, 0.0, 1.0]);
    /// ```
    pub fn from_weight(weight: Tensor<T>) -> Self {
        Embedding {
            weight: weight.requires_grad_(true),
            mode: Mode::default(),
        }
    }

    /// The table, `[num_embeddings, embedding_dim]`.
    ///
    /// ```
    /// use tapegrad::nn::Embedding;
    /// assert!(Embedding::<f32>::new(5, 2).weight().requires_grad());
    /// ```
    pub fn weight(&self) -> &Tensor<T> {
        &self.weight
    }

    /// The rows for `indices`; panics with [`Embedding::try_forward`]'s error.
    ///
    /// ```
    /// use tapegrad::nn::Embedding;
    /// use tapegrad::Tensor;
    /// let e: Embedding = Embedding::new(4, 8);
    /// assert_eq!(e.forward(&Tensor::from_vec(vec![3i64, 0], &[2])).shape(), &[2, 8]);
    /// ```
    #[track_caller]
    pub fn forward(&self, indices: &Tensor<i64>) -> Tensor<T> {
        or_panic(self.try_forward(indices))
    }

    /// The rows for `indices`, or an error naming `Embedding`, the index and the shapes
    /// for an index outside `0..num_embeddings`.
    ///
    /// ```
    /// use tapegrad::nn::Embedding;
    /// use tapegrad::Tensor;
    /// let e: Embedding = Embedding::new(4, 8);
    /// let err = e.try_forward(&Tensor::from_vec(vec![-1i64], &[1])).unwrap_err();
    /// assert!(err.to_string().contains("Embedding"));
    /// ```
    #[track_caller]
    pub fn try_forward(&self, indices: &Tensor<i64>) -> Result<Tensor<T>> {
        let _site = crate::autograd::anomaly::enter(std::panic::Location::caller());
        try_embedding(indices, &self.weight)
            .map_err(|e| Error::new(e.kind(), "Embedding", e.message()))
    }
}

impl<T: Float> Module<T> for Embedding<T> {
    /// The rows for indices given as whole numbers in a float tensor (so an `Embedding`
    /// can sit first in a `Sequential`); a fractional or out-of-range index panics.
    #[track_caller]
    fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
        or_panic(Module::try_forward(self, x))
    }
    fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let indices: Vec<i64> = x
            .to_vec()
            .into_iter()
            .map(|v| {
                v.to_i64()
                    .filter(|&i| T::from(i) == Some(v))
                    .ok_or_else(|| {
                        Error::index(
                            "Embedding",
                            format!("index {v:?} in input {:?} is not a whole number", x.shape()),
                        )
                    })
            })
            .collect::<Result<_>>()?;
        Embedding::try_forward(self, &Tensor::from_vec(indices, x.shape()))
    }
    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        vec![("weight".to_string(), self.weight.clone())]
    }
    fn train(&self, on: bool) {
        self.mode.set(on);
    }
    fn is_training(&self) -> bool {
        self.mode.get()
    }
}
