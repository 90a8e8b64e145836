//! Datasets and batching, like `torch.utils.data`: [`TensorDataset`] holds samples along
//! the first dim of some tensors, [`DataLoader`] cuts them into (optionally shuffled)
//! batches, and [`Mnist`] reads the MNIST files.
//!
//! ```
//! use tapegrad::data::{DataLoader, TensorDataset};
//! use tapegrad::Tensor;
//! let x: Tensor = Tensor::arange(0.0, 10.0, 1.0).reshape(&[5, 2]);
//! let y: Tensor = Tensor::arange(0.0, 5.0, 1.0);
//! let dataset = TensorDataset::new(vec![x, y]);
//! let loader = DataLoader::new(&dataset, 2).shuffle(true).seed(0);
//! let mut seen = 0;
//! for batch in &loader {
//!     assert_eq!(batch.len(), 2); // x and y of the same samples
//!     assert_eq!(batch[0].shape()[0], batch[1].shape()[0]);
//!     seen += batch[1].shape()[0];
//! }
//! assert_eq!(seen, 5); // 2 + 2 + 1: the last batch is short unless drop_last
//! ```

mod mnist;

pub use mnist::{read_idx, Idx, Mnist};

use crate::array::index::index_select;
use crate::element::Float;
use crate::error::{or_panic, Error, Result};
use crate::Tensor;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::sync::atomic::{AtomicU64, Ordering};

/// Samples stored along the first dim of one or more tensors (inputs, targets, ...), like
/// `TensorDataset(x, y)`: sample `i` is row `i` of each.
///
/// ```
/// use tapegrad::data::TensorDataset;
/// use tapegrad::Tensor;
/// let d = TensorDataset::new(vec![Tensor::<f32>::zeros(&[4, 3]), Tensor::zeros(&[4])]);
/// assert_eq!(d.len(), 4);
/// assert_eq!(d.get(2)[0].shape(), &[3]);
/// ```
#[derive(Debug, Clone)]
pub struct TensorDataset<T: Float = f32> {
    tensors: Vec<Tensor<T>>,
}

impl<T: Float> TensorDataset<T> {
    /// A dataset of `tensors`, which must share their first dim. Panics with
    /// [`TensorDataset::try_new`]'s error.
    ///
    /// ```
    /// use tapegrad::data::TensorDataset;
    /// use tapegrad::Tensor;
    /// let (x, y): (Tensor, Tensor) = (Tensor::zeros(&[10, 4]), Tensor::zeros(&[10]));
    /// assert_eq!(TensorDataset::new(vec![x, y]).tensors().len(), 2);
    /// ```
    #[track_caller]
    pub fn new(tensors: Vec<Tensor<T>>) -> Self {
        or_panic(TensorDataset::try_new(tensors))
    }

    /// [`TensorDataset::new`], or an error naming the shapes if a tensor is 0-D or the
    /// first dims differ.
    ///
    /// ```
    /// use tapegrad::data::TensorDataset;
    /// use tapegrad::Tensor;
    /// assert!(TensorDataset::try_new(vec![Tensor::<f32>::zeros(&[4, 3]), Tensor::zeros(&[5])]).is_err());
    /// ```
    pub fn try_new(tensors: Vec<Tensor<T>>) -> Result<Self> {
        let shapes: Vec<&[usize]> = tensors.iter().map(|t| t.shape()).collect();
        let first = shapes.first().and_then(|s| s.first());
        if first.is_none() || shapes.iter().any(|s| s.first() != first) {
            return Err(Error::shape(
                "TensorDataset",
                format!("the tensors must be 1-D or more and share their first dim, got shapes {shapes:?}"),
            ));
        }
        Ok(TensorDataset { tensors })
    }

    /// The number of samples.
    ///
    /// ```
    /// use tapegrad::data::TensorDataset;
    /// use tapegrad::Tensor;
    /// assert_eq!(TensorDataset::new(vec![Tensor::<f32>::zeros(&[7, 2])]).len(), 7);
    /// ```
    pub fn len(&self) -> usize {
        self.tensors[0].shape()[0]
    }

    /// True if there are no samples.
    ///
    /// ```
    /// use tapegrad::data::TensorDataset;
    /// use tapegrad::Tensor;
    /// assert!(TensorDataset::new(vec![Tensor::<f32>::zeros(&[0, 2])]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sample `index`: row `index` of each tensor. Panics if out of range.
    ///
    /// ```
    /// use tapegrad::data::TensorDataset;
    /// use tapegrad::Tensor;
    /// let d = TensorDataset::new(vec![Tensor::<f32>::arange(0.0, 6.0, 1.0).reshape(&[3, 2])]);
    /// assert_eq!(d.get(1)[0].to_vec(), vec![2.0, 3.0]);
    /// ```
    #[track_caller]
    pub fn get(&self, index: usize) -> Vec<Tensor<T>> {
        assert!(
            index < self.len(),
            "TensorDataset: index {index} out of range for {} samples",
            self.len()
        );
        self.tensors.iter().map(|t| t.select(0, index)).collect()
    }

    /// The tensors, whole.
    ///
    /// ```
    /// use tapegrad::data::TensorDataset;
    /// use tapegrad::Tensor;
    /// assert_eq!(TensorDataset::new(vec![Tensor::<f32>::zeros(&[4, 3])]).tensors().len(), 1);
    /// ```
    pub fn tensors(&self) -> &[Tensor<T>] {
        &self.tensors
    }

    /// The samples at `indices`, one tensor per dataset tensor (a copy, off the tape).
    fn batch(&self, indices: &[i64]) -> Vec<Tensor<T>> {
        self.tensors
            .iter()
            .map(|t| Tensor::from_array(index_select(t.array(), 0, indices)))
            .collect()
    }
}

/// Batches of a [`TensorDataset`], like `DataLoader(dataset, batch_size, shuffle=...,
/// drop_last=...)`. Each iteration ([`DataLoader::iter`] or `for batch in &loader`) is an
/// epoch; with `shuffle`, each epoch draws a new order from the loader's seed and the epoch
/// number, so a run is reproducible.
///
/// ```
/// use tapegrad::data::{DataLoader, TensorDataset};
/// use tapegrad::Tensor;
/// let d = TensorDataset::new(vec![Tensor::<f32>::arange(0.0, 10.0, 1.0)]);
/// let loader = DataLoader::new(&d, 4).drop_last(true);
/// let sizes: Vec<usize> = loader.iter().map(|b| b[0].shape()[0]).collect();
/// assert_eq!(sizes, [4, 4]);
/// assert_eq!(loader.len(), 2);
/// ```
#[derive(Debug)]
pub struct DataLoader<'a, T: Float = f32> {
    dataset: &'a TensorDataset<T>,
    batch_size: usize,
    shuffle: bool,
    drop_last: bool,
    seed: u64,
    epoch: AtomicU64,
}

impl<'a, T: Float> DataLoader<'a, T> {
    /// Batches of `batch_size` in order, the last one short. Shuffling's seed is drawn
    /// from the global generator ([`manual_seed`](crate::manual_seed)) unless set. Panics
    /// for a zero batch size.
    ///
    /// ```
    /// use tapegrad::data::{DataLoader, TensorDataset};
    /// use tapegrad::Tensor;
    /// let d = TensorDataset::new(vec![Tensor::<f32>::zeros(&[5, 2])]);
    /// let first = DataLoader::new(&d, 2).iter().next().unwrap();
    /// assert_eq!(first[0].shape(), &[2, 2]);
    /// ```
    #[track_caller]
    pub fn new(dataset: &'a TensorDataset<T>, batch_size: usize) -> Self {
        assert!(batch_size > 0, "DataLoader: batch_size must be positive");
        let seed = crate::rng::with_rng(rand::Rng::random::<u64>);
        DataLoader {
            dataset,
            batch_size,
            shuffle: false,
            drop_last: false,
            seed,
            epoch: AtomicU64::new(0),
        }
    }

    /// A new random order every epoch (default off).
    ///
    /// ```
    /// use tapegrad::data::{DataLoader, TensorDataset};
    /// use tapegrad::Tensor;
    /// let d = TensorDataset::new(vec![Tensor::<f32>::arange(0.0, 100.0, 1.0)]);
    /// let loader = DataLoader::new(&d, 100).shuffle(true).seed(1);
    /// let (a, b) = (loader.iter().next().unwrap(), loader.iter().next().unwrap());
    /// assert_ne!(a[0].to_vec(), b[0].to_vec()); // two epochs, two orders
    /// ```
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// Leave out a last batch smaller than `batch_size` (default off).
    ///
    /// ```
    /// use tapegrad::data::{DataLoader, TensorDataset};
    /// use tapegrad::Tensor;
    /// let d = TensorDataset::new(vec![Tensor::<f32>::zeros(&[5])]);
    /// assert_eq!(DataLoader::new(&d, 2).drop_last(true).len(), 2);
    /// ```
    pub fn drop_last(mut self, drop_last: bool) -> Self {
        self.drop_last = drop_last;
        self
    }

    /// The seed of the shuffling; the epoch counter starts again from 0.
    ///
    /// ```
    /// use tapegrad::data::{DataLoader, TensorDataset};
    /// use tapegrad::Tensor;
    /// let d = TensorDataset::new(vec![Tensor::<f32>::arange(0.0, 50.0, 1.0)]);
    /// let a = DataLoader::new(&d, 50).shuffle(true).seed(9).iter().next().unwrap();
    /// let b = DataLoader::new(&d, 50).shuffle(true).seed(9).iter().next().unwrap();
    /// assert_eq!(a[0].to_vec(), b[0].to_vec());
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self.epoch = AtomicU64::new(0);
        self
    }

    /// The number of batches in an epoch.
    ///
    /// ```
    /// use tapegrad::data::{DataLoader, TensorDataset};
    /// use tapegrad::Tensor;
    /// let d = TensorDataset::new(vec![Tensor::<f32>::zeros(&[10])]);
    /// assert_eq!(DataLoader::new(&d, 4).len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        let n = self.dataset.len();
        if self.drop_last {
            n / self.batch_size
        } else {
            n.div_ceil(self.batch_size)
        }
    }

    /// True if an epoch has no batch.
    ///
    /// ```
    /// use tapegrad::data::{DataLoader, TensorDataset};
    /// use tapegrad::Tensor;
    /// let d = TensorDataset::new(vec![Tensor::<f32>::zeros(&[3])]);
    /// assert!(DataLoader::new(&d, 4).drop_last(true).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Starts an epoch: its batches, each a `Vec` with one tensor per dataset tensor.
    ///
    /// ```
    /// use tapegrad::data::{DataLoader, TensorDataset};
    /// use tapegrad::Tensor;
    /// let d = TensorDataset::new(vec![Tensor::<f32>::zeros(&[5, 3])]);
    /// assert_eq!(DataLoader::new(&d, 2).iter().map(|b| b[0].shape()[0]).sum::<usize>(), 5);
    /// ```
    pub fn iter(&self) -> Batches<'a, T> {
        let epoch = self.epoch.fetch_add(1, Ordering::Relaxed);
        let mut order: Vec<i64> = (0..self.dataset.len() as i64).collect();
        if self.shuffle {
            // One stream per (seed, epoch): SplitMix-style mixing keeps nearby seeds apart.
            let mixed = self.seed ^ epoch.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            order.shuffle(&mut ChaCha8Rng::seed_from_u64(mixed));
        }
        let end = self.len().min(order.len().div_ceil(self.batch_size));
        Batches {
            dataset: self.dataset,
            order,
            batch_size: self.batch_size,
            next: 0,
            end,
        }
    }
}

impl<'a, T: Float> IntoIterator for &DataLoader<'a, T> {
    type Item = Vec<Tensor<T>>;
    type IntoIter = Batches<'a, T>;
    fn into_iter(self) -> Batches<'a, T> {
        self.iter()
    }
}

/// One epoch's batches (from [`DataLoader::iter`]); it knows how many are left.
///
/// ```
/// use tapegrad::data::{DataLoader, TensorDataset};
/// use tapegrad::Tensor;
/// let d = TensorDataset::new(vec![Tensor::<f32>::zeros(&[5])]);
/// let loader = DataLoader::new(&d, 2);
/// let mut batches = loader.iter();
/// assert_eq!(batches.len(), 3);
/// batches.next();
/// assert_eq!(batches.len(), 2);
/// ```
#[derive(Debug)]
pub struct Batches<'a, T: Float> {
    dataset: &'a TensorDataset<T>,
    order: Vec<i64>,
    batch_size: usize,
    next: usize,
    end: usize,
}

impl<T: Float> Iterator for Batches<'_, T> {
    type Item = Vec<Tensor<T>>;
    fn next(&mut self) -> Option<Vec<Tensor<T>>> {
        if self.next >= self.end {
            return None;
        }
        let start = self.next * self.batch_size;
        let stop = (start + self.batch_size).min(self.order.len());
        self.next += 1;
        Some(self.dataset.batch(&self.order[start..stop]))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.end - self.next;
        (left, Some(left))
    }
}

impl<T: Float> ExactSizeIterator for Batches<'_, T> {}
