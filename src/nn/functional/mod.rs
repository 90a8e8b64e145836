//! Losses, softmax and the layers as functions, like `torch.nn.functional`.
//!
//! Every function records on the tape like any tensor op, so `loss.backward()` reaches the
//! model's parameters. Each has a `try_` twin that returns the error the plain form panics
//! with (shapes that differ, a class index out of range, a dim out of range).
//!
//! Unlike PyTorch, a loss does not broadcast an `input` and a `target` of different shapes:
//! `[64, 1]` against `[64]` silently broadcasts to `[64, 64]` in PyTorch (with only a
//! warning) and trains on the wrong loss; here it is an error.

use crate::dim::{resolve_dim, Dim};
use crate::element::Float;
use crate::error::{or_panic, Error, Result};
use crate::ops::{CrossEntropy, Linear as LinearOp, MaxDim, MseLoss};
use crate::Tensor;

/// How a loss reduces its per-element values, like PyTorch's `reduction=` argument.
///
/// ```
/// use tapegrad::nn::functional::{mse_loss_with, Reduction};
/// use tapegrad::Tensor;
/// let (a, b): (Tensor, Tensor) = (Tensor::ones(&[2]), Tensor::zeros(&[2]));
/// assert_eq!(mse_loss_with(&a, &b, Reduction::Sum).item(), 2.0);
/// assert_eq!(mse_loss_with(&a, &b, Reduction::None).shape(), &[2]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// The mean over all elements (PyTorch's default).
    #[default]
    Mean,
    /// The sum over all elements.
    Sum,
    /// No reduction: one loss value per element (per sample for `cross_entropy`).
    None,
}

impl Reduction {
    fn apply<T: Float>(self, losses: Tensor<T>) -> Tensor<T> {
        match self {
            Reduction::Mean => losses.mean(),
            Reduction::Sum => losses.sum(),
            Reduction::None => losses,
        }
    }
}

/// A free function and its `try_` twin: the plain form panics with the error's text.
macro_rules! fallible_fn {
    ($($(#[$doc:meta])* $name:ident / $try_name:ident <$t:ident> ($($arg:ident : $ty:ty),*) -> $out:ty $body:block)*) => {$(
        $(#[$doc])*
        #[track_caller]
        #[allow(clippy::too_many_arguments)] // PyTorch's signatures (batch_norm has 8)
        pub fn $name<$t: Float>($($arg: $ty),*) -> $out {
            or_panic($try_name($($arg),*))
        }

        #[doc = concat!("[`", stringify!($name), "`] returning an error instead of panicking:")]
        #[doc = ""]
        $(#[$doc])*
        #[track_caller]
        #[allow(clippy::too_many_arguments)]
        pub fn $try_name<$t: Float>($($arg: $ty),*) -> Result<$out> {
            let _site = crate::autograd::anomaly::enter(std::panic::Location::caller());
            $body
        }
    )*};
}

mod layers;

pub use layers::{
    avg_pool2d, batch_norm, conv1d, conv2d, dropout, embedding, layer_norm, max_pool2d,
    try_avg_pool2d, try_batch_norm, try_conv1d, try_conv2d, try_dropout, try_embedding,
    try_layer_norm, try_max_pool2d,
};
pub(crate) use layers::{batch_norm_checked, conv2d_params, conv_params};

/// Class indices for `cross_entropy`: a slice or `Vec` of `usize`, or a `Tensor<i64>`
/// (PyTorch's `LongTensor` targets).
///
/// ```
/// use tapegrad::nn::functional::cross_entropy;
/// use tapegrad::Tensor;
/// let logits: Tensor<f64> = Tensor::zeros(&[2, 3]);
/// let a = cross_entropy(&logits, &[0, 2]).item();
/// let b = cross_entropy(&logits, &Tensor::from_vec(vec![0i64, 2], &[2])).item();
/// assert_eq!(a, b);
/// ```
pub trait ClassTargets {
    /// The indices, or an error for a negative one or a tensor that is not 0-D or 1-D.
    ///
    /// ```
    /// use tapegrad::nn::functional::ClassTargets;
    /// use tapegrad::Tensor;
    /// assert_eq!(Tensor::from_vec(vec![2i64, 0], &[2]).class_indices()?, vec![2, 0]);
    /// assert!(Tensor::from_vec(vec![-1i64], &[1]).class_indices().is_err());
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    fn class_indices(&self) -> Result<Vec<usize>>;
}

impl ClassTargets for [usize] {
    fn class_indices(&self) -> Result<Vec<usize>> {
        Ok(self.to_vec())
    }
}

impl<const N: usize> ClassTargets for [usize; N] {
    fn class_indices(&self) -> Result<Vec<usize>> {
        Ok(self.to_vec())
    }
}

impl ClassTargets for Vec<usize> {
    fn class_indices(&self) -> Result<Vec<usize>> {
        Ok(self.clone())
    }
}

impl ClassTargets for Tensor<i64> {
    fn class_indices(&self) -> Result<Vec<usize>> {
        indices_of(self, |c| usize::try_from(c).ok())
    }
}

/// The class indices in a 0-D or 1-D tensor, each converted by `index` (`None`: not a
/// class index, an error naming its position).
fn indices_of<T: crate::Element>(
    targets: &Tensor<T>,
    index: impl Fn(T) -> Option<usize>,
) -> Result<Vec<usize>> {
    if targets.ndim() > 1 {
        return Err(Error::shape(
            "cross_entropy",
            format!(
                "targets must be 0-D or 1-D class indices, got shape {:?}",
                targets.shape()
            ),
        ));
    }
    targets
        .to_vec()
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            index(c).ok_or_else(|| {
                Error::index(
                    "cross_entropy",
                    format!("target[{i}] = {c:?} is not a class index (a whole number >= 0)"),
                )
            })
        })
        .collect()
}

/// Float class indices (as a [`TensorDataset`](crate::data::TensorDataset) of one float
/// type holds its labels): each must be a whole number `>= 0`.
///
/// ```
/// use tapegrad::nn::functional::cross_entropy;
/// use tapegrad::Tensor;
/// let logits: Tensor = Tensor::zeros(&[2, 3]);
/// let labels: Tensor = Tensor::from_vec(vec![0.0, 2.0], &[2]);
/// assert!((cross_entropy(&logits, &labels).item() - 3f32.ln()).abs() < 1e-6);
/// ```
impl<T: Float> ClassTargets for Tensor<T> {
    fn class_indices(&self) -> Result<Vec<usize>> {
        indices_of(self, |c| c.to_usize().filter(|&u| T::from(u) == Some(c)))
    }
}

/// Class indices as one-hot rows: `[.., classes]` with a 1 at each index
/// (`F.one_hot(t, classes)`). An error for an index outside `0..classes`.
///
/// ```
/// use tapegrad::nn::functional::one_hot;
/// use tapegrad::Tensor;
/// let y = one_hot(&Tensor::from_vec(vec![2i64, 0], &[2]), 3);
/// assert_eq!(y.to_vec2(), vec![vec![0, 0, 1], vec![1, 0, 0]]);
/// ```
#[track_caller]
pub fn one_hot(indices: &Tensor<i64>, classes: usize) -> Tensor<i64> {
    or_panic(try_one_hot(indices, classes))
}

/// [`one_hot`] returning an error instead of panicking.
///
/// ```
/// use tapegrad::nn::functional::try_one_hot;
/// use tapegrad::Tensor;
/// let labels = Tensor::from_vec(vec![0i64, 2], &[2]);
/// assert_eq!(try_one_hot(&labels, 3)?.to_vec(), vec![1, 0, 0, 0, 0, 1]);
/// assert!(try_one_hot(&labels, 2).is_err()); // class 2 of 2
/// # Ok::<(), tapegrad::Error>(())
/// ```
pub fn try_one_hot(indices: &Tensor<i64>, classes: usize) -> Result<Tensor<i64>> {
    let values = indices.to_vec();
    if let Some(&bad) = values
        .iter()
        .find(|&&c| c < 0 || c as u64 >= classes as u64)
    {
        return Err(Error::index(
            "one_hot",
            format!(
                "class index {bad} is outside 0..{classes} (shape {:?})",
                indices.shape()
            ),
        ));
    }
    let mut shape = indices.shape().to_vec();
    shape.push(classes);
    crate::shape::check_numel("one_hot", &shape)?;
    let mut data = vec![0i64; values.len() * classes];
    for (row, &c) in values.iter().enumerate() {
        data[row * classes + c as usize] = 1;
    }
    Tensor::try_from_vec(data, &shape)
}

fn same_shape<T: Float>(op: &'static str, input: &Tensor<T>, target: &Tensor<T>) -> Result<()> {
    if input.shape() != target.shape() {
        return Err(Error::shape(
            op,
            format!(
                "input shape {:?} and target shape {:?} differ (losses do not broadcast; reshape one of them)",
                input.shape(),
                target.shape()
            ),
        ));
    }
    Ok(())
}

fallible_fn! {
    /// `input · weightᵀ + bias`, like `F.linear`: `input` `[..., in]` (at least 2-D),
    /// `weight` `[out, in]`, `bias` `[out]`. One fused op, as [`crate::nn::Linear`] uses.
    ///
    /// ```
    /// use tapegrad::nn::functional::linear;
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::from_vec(vec![1.0, 2.0], &[1, 2]);
    /// let w: Tensor = Tensor::from_vec(vec![1.0, 1.0, 0.0, 2.0], &[2, 2]);
    /// let b: Tensor = Tensor::from_vec(vec![0.5, -1.0], &[2]);
    /// assert_eq!(linear(&x, &w, Some(&b)).to_vec(), vec![3.5, 3.0]);
    /// let wrong: Tensor = Tensor::zeros(&[2, 3]); // in = 3, but x has 2 features
    /// assert!(tapegrad::nn::functional::try_linear(&x, &wrong, None).is_err());
    /// ```
    linear / try_linear<T>(input: &Tensor<T>, weight: &Tensor<T>, bias: Option<&Tensor<T>>) -> Tensor<T> {
        match bias {
            Some(b) => Tensor::apply(LinearOp { bias: true }.into(), &[input, weight, b]),
            None => Tensor::apply(LinearOp { bias: false }.into(), &[input, weight]),
        }
    }

    /// Mean squared error, `mean((input - target)²)`, like `F.mse_loss`.
    ///
    /// ```
    /// use tapegrad::nn::functional::mse_loss;
    /// use tapegrad::Tensor;
    /// let input: Tensor = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]);
    /// let target: Tensor = Tensor::from_vec(vec![1.0, 0.0, 0.0], &[3]);
    /// assert_eq!(mse_loss(&input, &target).item(), 13.0 / 3.0);
    /// ```
    mse_loss / try_mse_loss<T>(input: &Tensor<T>, target: &Tensor<T>) -> Tensor<T> {
        try_mse_loss_with(input, target, Reduction::Mean)
    }

    /// Squared error with the given reduction, like `F.mse_loss(..., reduction=...)`.
    mse_loss_with / try_mse_loss_with<T>(input: &Tensor<T>, target: &Tensor<T>, reduction: Reduction) -> Tensor<T> {
        // The reductions are one fused op (one node on the tape instead of three).
        match reduction {
            Reduction::Mean => Tensor::apply(MseLoss { mean: true }.into(), &[input, target]),
            Reduction::Sum => Tensor::apply(MseLoss { mean: false }.into(), &[input, target]),
            Reduction::None => {
                same_shape("mse_loss", input, target)?;
                Ok((input - target).pow(T::one() + T::one()))
            }
        }
    }

    /// Mean absolute error, `mean(|input - target|)`, like `F.l1_loss`.
    l1_loss / try_l1_loss<T>(input: &Tensor<T>, target: &Tensor<T>) -> Tensor<T> {
        try_l1_loss_with(input, target, Reduction::Mean)
    }

    /// Absolute error with the given reduction, like `F.l1_loss(..., reduction=...)`.
    l1_loss_with / try_l1_loss_with<T>(input: &Tensor<T>, target: &Tensor<T>, reduction: Reduction) -> Tensor<T> {
        same_shape("l1_loss", input, target)?;
        Ok(reduction.apply((input - target).abs()))
    }

    /// `log(softmax(x))` along `dim`, computed as `x - max - log(sum(exp(x - max)))` so large
    /// logits neither overflow nor lose precision, like `F.log_softmax`.
    ///
    /// ```
    /// use tapegrad::nn::functional::log_softmax;
    /// use tapegrad::Tensor;
    /// let x: Tensor<f64> = Tensor::from_vec(vec![1000.0, 1000.0], &[1, 2]);
    /// let y = log_softmax(&x, 1).to_vec();
    /// assert!((y[0] - (0.5f64).ln()).abs() < 1e-12 && (y[1] - (0.5f64).ln()).abs() < 1e-12);
    /// ```
    log_softmax / try_log_softmax<T>(x: &Tensor<T>, dim: impl Dim) -> Tensor<T> {
        if x.ndim() == 0 {
            // PyTorch's leniency: dim 0 (or -1) of a 0-d value is the value itself.
            crate::dim::resolve_reduce_dim("log_softmax", dim, &[])?;
            return Ok(try_log_softmax(&x.reshape(&[1]), 0)?.reshape(&[0usize; 0]));
        }
        let dim = resolve_dim("log_softmax", dim, x.shape())?;
        // Shifting by a constant does not change log_softmax, so the max is taken from a
        // detached copy: no gradient flows through it and ties need no special rule.
        let max = Tensor::apply(MaxDim { dim, keepdim: true }.into(), &[&x.detach()])
            .map_err(|e| Error::new(e.kind(), "log_softmax", e.message()))?;
        let shifted = x - &max;
        let log_sum = shifted.exp().sum_dim(dim, true).log();
        Ok(shifted - log_sum)
    }

    /// `exp(x) / sum(exp(x))` along `dim`, without overflow, like `F.softmax`.
    softmax / try_softmax<T>(x: &Tensor<T>, dim: impl Dim) -> Tensor<T> {
        let dim = crate::dim::resolve_reduce_dim("softmax", dim, x.shape())?;
        Ok(try_log_softmax(x, dim)?.exp())
    }

    /// Cross-entropy between logits and class indices, like `F.cross_entropy`: the mean over
    /// the batch of `-log_softmax(input)[i, target[i]]`. `input` is `[N, C]` (or `[C]` with
    /// one target); `target` holds `N` class indices in `0..C`.
    ///
    /// ```
    /// use tapegrad::nn::functional::cross_entropy;
    /// use tapegrad::Tensor;
    /// // Two classes with equal logits: the loss is ln 2 whatever the target.
    /// let logits: Tensor<f64> = Tensor::zeros(&[3, 2]);
    /// assert!((cross_entropy(&logits, &[0, 1, 1]).item() - 2f64.ln()).abs() < 1e-12);
    /// ```
    cross_entropy / try_cross_entropy<T>(input: &Tensor<T>, target: &(impl ClassTargets + ?Sized)) -> Tensor<T> {
        try_cross_entropy_with(input, target, Reduction::Mean)
    }

    /// Cross-entropy with the given reduction (`None` gives one loss per sample).
    cross_entropy_with / try_cross_entropy_with<T>(input: &Tensor<T>, target: &(impl ClassTargets + ?Sized), reduction: Reduction) -> Tensor<T> {
        let target = &target.class_indices()?[..];
        let (batch, classes) = match *input.shape() {
            [n, c] => (Some(n), c),
            [c] => (None, c),
            _ => {
                return Err(Error::shape(
                    "cross_entropy",
                    format!("input must be [N, C] logits (or [C]), got shape {:?}", input.shape()),
                ))
            }
        };
        if target.len() != batch.unwrap_or(1) {
            return Err(Error::shape(
                "cross_entropy",
                format!("input of shape {:?} needs {} target indices, got {}", input.shape(), batch.unwrap_or(1), target.len()),
            ));
        }
        if let Some((i, &class)) = target.iter().enumerate().find(|&(_, &class)| class >= classes) {
            return Err(Error::index(
                "cross_entropy",
                format!("target[{i}] = {class} is out of range for {classes} classes (input shape {:?})", input.shape()),
            ));
        }
        // One fused op (log_softmax and the pick of each target's log-probability): its
        // gradient is `softmax - one_hot` per row, as PyTorch's. A masked logit (-inf, as
        // attention masks make) is exact: `[-inf, 0, 0]` against class 1 gives ln 2.
        let rows = if batch.is_some() { input.clone() } else { input.reshape(&[1, classes]) };
        let losses = Tensor::apply(CrossEntropy { targets: target.into() }.into(), &[&rows])?;
        let losses = if batch.is_some() { losses } else { losses.reshape(&[0usize; 0]) };
        Ok(reduction.apply(losses))
    }

    /// Binary cross-entropy on logits, like `F.binary_cross_entropy_with_logits`:
    /// `mean(softplus(x) - x·y)`, which equals `-[y log σ(x) + (1-y) log(1-σ(x))]` but
    /// never takes the log of a rounded-off 0, and has the exact gradient `σ(x) - y`.
    binary_cross_entropy_with_logits / try_binary_cross_entropy_with_logits<T>(input: &Tensor<T>, target: &Tensor<T>) -> Tensor<T> {
        try_binary_cross_entropy_with_logits_with(input, target, Reduction::Mean)
    }

    /// Binary cross-entropy on logits with the given reduction.
    binary_cross_entropy_with_logits_with / try_binary_cross_entropy_with_logits_with<T>(input: &Tensor<T>, target: &Tensor<T>, reduction: Reduction) -> Tensor<T> {
        same_shape("binary_cross_entropy_with_logits", input, target)?;
        // PyTorch's formula, (1 - t)·x - log σ(x), so infinite logits give its values
        // (0·∞ is NaN where PyTorch's is, and ∞ where PyTorch's is).
        let one_minus_target = Tensor::apply(crate::ops::ScalarSub(T::one()).into(), &[target])?;
        Ok(reduction.apply(one_minus_target.try_mul(input)? - input.log_sigmoid()))
    }
}
