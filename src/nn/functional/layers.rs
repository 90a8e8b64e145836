//! The layers' functional forms: `conv1d`, `conv2d`, pooling, `dropout`, `layer_norm`,
//! `batch_norm`, `embedding`, with PyTorch's argument order (square sizes as `usize`).

use crate::element::Float;
use crate::error::{or_panic, Error, Result};
use crate::ops::{Conv2d, ConvParams, Pool2d, PoolKind};
use crate::tensor::inplace::write_values;
use crate::Tensor;

/// Window geometry of a pooling.
fn pool_window(kernel: usize, stride: usize, padding: usize) -> crate::array::conv::Window {
    crate::array::conv::Window {
        kernel: [kernel; 2],
        stride: [stride; 2],
        padding: [padding; 2],
        dilation: [1, 1],
    }
}

/// Settings of a 2-D convolution, for the pair forms (`Conv2d::stride2` and friends).
pub(crate) fn conv_params(
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
    groups: usize,
) -> ConvParams {
    ConvParams {
        stride,
        padding,
        dilation,
        groups,
    }
}

/// `conv2d` with settings per spatial dim; `input` `[N, C, H, W]` or `[C, H, W]`.
pub(crate) fn conv2d_params<T: Float>(
    input: &Tensor<T>,
    weight: &Tensor<T>,
    bias: Option<&Tensor<T>>,
    params: ConvParams,
) -> Result<Tensor<T>> {
    if input.ndim() == 3 {
        let batched = input.try_unsqueeze(0)?;
        return conv2d_params(&batched, weight, bias, params)?.try_squeeze_dim(0);
    }
    let op = Conv2d {
        params,
        bias: bias.is_some(),
    };
    match bias {
        Some(b) => Tensor::apply(op.into(), &[input, weight, b]),
        None => Tensor::apply(op.into(), &[input, weight]),
    }
}

fallible_fn! {
    /// A 2-D convolution (cross-correlation, as in every framework), like `F.conv2d`:
    /// `input` `[N, C, H, W]` (or unbatched `[C, H, W]`), `weight` `[O, C/groups, kh, kw]`,
    /// an optional `bias` `[O]`; output `[N, O, OH, OW]` with
    /// `OH = (H + 2·padding - dilation·(kh - 1) - 1) / stride + 1`.
    ///
    /// ```
    /// use tapegrad::nn::functional::conv2d;
    /// use tapegrad::Tensor;
    /// let x: Tensor<f64> = Tensor::ones(&[1, 1, 4, 4]);
    /// let w: Tensor<f64> = Tensor::ones(&[1, 1, 3, 3]);
    /// let y = conv2d(&x, &w, None, 1, 1, 1, 1); // padding 1 keeps 4 x 4
    /// assert_eq!(y.shape(), &[1, 1, 4, 4]);
    /// assert_eq!(y.to_vec()[..4], [4.0, 6.0, 6.0, 4.0]);
    /// assert!(tapegrad::nn::functional::try_conv2d(&x, &Tensor::ones(&[1, 2, 3, 3]), None, 1, 0, 1, 1).is_err());
    /// ```
    conv2d / try_conv2d<T>(input: &Tensor<T>, weight: &Tensor<T>, bias: Option<&Tensor<T>>, stride: usize, padding: usize, dilation: usize, groups: usize) -> Tensor<T> {
        conv2d_params(input, weight, bias, conv_params([stride; 2], [padding; 2], [dilation; 2], groups))
    }

    /// A 1-D convolution, like `F.conv1d`: `input` `[N, C, L]` (or `[C, L]`), `weight`
    /// `[O, C/groups, k]`, optional `bias` `[O]`; output `[N, O, (L + 2·padding -
    /// dilation·(k - 1) - 1) / stride + 1]`. It runs as a `conv2d` of height 1.
    ///
    /// ```
    /// use tapegrad::nn::functional::conv1d;
    /// use tapegrad::Tensor;
    /// let x: Tensor<f64> = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[1, 1, 4]);
    /// let w: Tensor<f64> = Tensor::from_vec(vec![1.0, -1.0], &[1, 1, 2]);
    /// assert_eq!(conv1d(&x, &w, None, 1, 0, 1, 1).to_vec(), vec![-1.0, -1.0, -1.0]);
    /// ```
    conv1d / try_conv1d<T>(input: &Tensor<T>, weight: &Tensor<T>, bias: Option<&Tensor<T>>, stride: usize, padding: usize, dilation: usize, groups: usize) -> Tensor<T> {
        conv1d_checked(input, weight, bias, stride, padding, dilation, groups)
    }

    /// 2-D max pooling, like `F.max_pool2d(input, kernel_size, stride, padding)`, over the
    /// last two dims of `[N, C, H, W]` or `[C, H, W]`. The gradient goes to each window's
    /// maximum (the first, on a tie). PyTorch's default stride is the kernel size: pass it.
    ///
    /// ```
    /// use tapegrad::nn::functional::max_pool2d;
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::arange(0.0, 16.0, 1.0).reshape(&[1, 1, 4, 4]);
    /// assert_eq!(max_pool2d(&x, 2, 2, 0).to_vec(), vec![5.0, 7.0, 13.0, 15.0]);
    /// ```
    max_pool2d / try_max_pool2d<T>(input: &Tensor<T>, kernel_size: usize, stride: usize, padding: usize) -> Tensor<T> {
        let window = pool_window(kernel_size, stride, padding);
        Tensor::apply(Pool2d { kind: PoolKind::Max, window }.into(), &[input])
    }

    /// 2-D average pooling, like `F.avg_pool2d(input, kernel_size, stride, padding)`: the
    /// padding's zeros count in each window's mean (PyTorch's `count_include_pad=True`).
    ///
    /// ```
    /// use tapegrad::nn::functional::avg_pool2d;
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::arange(0.0, 16.0, 1.0).reshape(&[1, 1, 4, 4]);
    /// assert_eq!(avg_pool2d(&x, 2, 2, 0).to_vec(), vec![2.5, 4.5, 10.5, 12.5]);
    /// ```
    avg_pool2d / try_avg_pool2d<T>(input: &Tensor<T>, kernel_size: usize, stride: usize, padding: usize) -> Tensor<T> {
        let window = pool_window(kernel_size, stride, padding);
        Tensor::apply(Pool2d { kind: PoolKind::Avg, window }.into(), &[input])
    }

    /// Dropout, like `F.dropout(input, p, training)`: in training, each element is zeroed
    /// with probability `p` (drawn from the seeded generator) and the rest are scaled by
    /// `1 / (1 - p)`, so the expected value is unchanged; otherwise `input` itself. An
    /// error for `p` outside `[0, 1]`.
    ///
    /// ```
    /// use tapegrad::nn::functional::dropout;
    /// use tapegrad::Tensor;
    /// let x: Tensor = Tensor::ones(&[1000]);
    /// assert_eq!(dropout(&x, 0.5, false).to_vec(), x.to_vec());
    /// let kept = dropout(&x, 0.5, true).to_vec();
    /// assert!(kept.iter().all(|&v| v == 0.0 || v == 2.0));
    /// ```
    dropout / try_dropout<T>(input: &Tensor<T>, p: T, training: bool) -> Tensor<T> {
        if !(p >= T::zero() && p <= T::one()) {
            return Err(Error::new(
                crate::ErrorKind::Value,
                "dropout",
                format!("probability must be in [0, 1], got {p:?}"),
            ));
        }
        if !training || p == T::zero() {
            return Ok(input.clone());
        }
        if p == T::one() {
            return input.try_mul(&Tensor::zeros(input.shape()));
        }
        let keep = T::one() - p;
        let mask = Tensor::full(input.shape(), keep).bernoulli();
        let scaled = crate::no_grad(|| &mask * (T::one() / keep));
        input.try_mul(&scaled)
    }

    /// Layer normalization, like `F.layer_norm(input, normalized_shape, weight, bias,
    /// eps)`: each slice over the last dims (`normalized_shape`) is shifted to mean 0 and
    /// scaled to variance 1 (the biased variance, plus `eps`), then multiplied by `weight`
    /// and shifted by `bias` (both of `normalized_shape`) if given.
    ///
    /// ```
    /// use tapegrad::nn::functional::layer_norm;
    /// use tapegrad::Tensor;
    /// let x: Tensor<f64> = Tensor::from_vec(vec![1.0, 3.0], &[1, 2]);
    /// let y = layer_norm(&x, &[2], None, None, 0.0).to_vec();
    /// assert_eq!(y, vec![-1.0, 1.0]);
    /// ```
    layer_norm / try_layer_norm<T>(input: &Tensor<T>, normalized_shape: &[usize], weight: Option<&Tensor<T>>, bias: Option<&Tensor<T>>, eps: T) -> Tensor<T> {
        let x = input.shape();
        let d = normalized_shape.len();
        if d == 0 || x.len() < d || x[x.len() - d..] != *normalized_shape {
            return Err(Error::shape(
                "layer_norm",
                format!(
                    "input of shape {x:?} does not end in normalized_shape {normalized_shape:?}"
                ),
            ));
        }
        for (what, t) in [("weight", weight), ("bias", bias)] {
            if let Some(t) = t.filter(|t| t.shape() != normalized_shape) {
                return Err(Error::shape(
                    "layer_norm",
                    format!(
                        "{what} must have shape {normalized_shape:?}, got {:?}",
                        t.shape()
                    ),
                ));
            }
        }
        let mut rows: Vec<usize> = x[..x.len() - d].to_vec();
        rows.push(normalized_shape.iter().product());
        let flat = input.try_reshape(&rows[..])?;
        let mean = flat.try_mean_dim(-1, true)?;
        let centered = flat.try_sub(&mean)?;
        let var = centered.square().try_mean_dim(-1, true)?;
        let normed = centered.try_mul(&(var + eps).rsqrt())?.try_reshape(x)?;
        affine(normed, weight, bias)
    }

    /// Batch normalization, like `F.batch_norm(input, running_mean, running_var, weight,
    /// bias, training, momentum, eps)`, over `[N, C]`, `[N, C, L]` or `[N, C, H, W]`, per
    /// channel `C`.
    ///
    /// In training it normalizes with the batch's mean and biased variance and, if running
    /// statistics are given, updates them in place: `running = (1 - momentum)·running +
    /// momentum·batch` (the unbiased variance for `running_var`). Otherwise it uses the
    /// running statistics. Training needs more than one value per channel (as PyTorch).
    ///
    /// ```
    /// use tapegrad::nn::functional::batch_norm;
    /// use tapegrad::Tensor;
    /// let x: Tensor<f64> = Tensor::from_vec(vec![1.0, 3.0], &[2, 1]);
    /// let (mean, var): (Tensor<f64>, Tensor<f64>) = (Tensor::zeros(&[1]), Tensor::ones(&[1]));
    /// let y = batch_norm(&x, Some(&mean), Some(&var), None, None, true, 0.1, 0.0);
    /// assert_eq!(y.to_vec(), vec![-1.0, 1.0]);
    /// assert_eq!(mean.to_vec(), vec![0.2]); // 0.9·0 + 0.1·2
    /// ```
    batch_norm / try_batch_norm<T>(input: &Tensor<T>, running_mean: Option<&Tensor<T>>, running_var: Option<&Tensor<T>>, weight: Option<&Tensor<T>>, bias: Option<&Tensor<T>>, training: bool, momentum: T, eps: T) -> Tensor<T> {
        batch_norm_checked(input, running_mean, running_var, weight, bias, training, momentum, eps).map(|(y, _)| y)
    }

    /// Rows of `weight` picked by `input`'s indices, like `F.embedding(input, weight)`:
    /// the output has `input`'s shape plus `weight`'s row length. An error names an index
    /// outside `0..weight.shape[0]`.
    ///
    /// ```
    /// use tapegrad::nn::functional::embedding;
    /// use tapegrad::Tensor;
    /// let table: Tensor = Tensor::from_vec(vec![0.0, 1.0, 10.0, 11.0, 20.0, 21.0], &[3, 2]);
    /// let ids = Tensor::from_vec(vec![2i64, 0], &[2]);
    /// assert_eq!(embedding(&ids, &table).to_vec2(), vec![vec![20.0, 21.0], vec![0.0, 1.0]]);
    /// ```
    embedding / try_embedding<T>(input: &Tensor<i64>, weight: &Tensor<T>) -> Tensor<T> {
        let &[rows, dim] = weight.shape() else {
            return Err(Error::shape(
                "embedding",
                format!("weight must be 2-D [num_embeddings, dim], got {:?}", weight.shape()),
            ));
        };
        let ids = input.to_vec();
        if let Some((at, &bad)) = ids
            .iter()
            .enumerate()
            .find(|&(_, &i)| i < 0 || i as u64 >= rows as u64)
        {
            return Err(Error::index(
                "embedding",
                format!(
                    "index {bad} (at flat position {at} of input {:?}) is out of range for \
                     weight {:?} (valid: 0..{rows})",
                    input.shape(),
                    weight.shape()
                ),
            ));
        }
        let flat = Tensor::from_vec(ids, &[input.numel()]);
        let mut shape = input.shape().to_vec();
        shape.push(dim);
        weight.try_index_select(0, &flat)?.try_reshape(&shape[..])
    }
}

/// `normed · weight + bias`, each if given (broadcast from the right).
fn affine<T: Float>(
    normed: Tensor<T>,
    weight: Option<&Tensor<T>>,
    bias: Option<&Tensor<T>>,
) -> Result<Tensor<T>> {
    let scaled = match weight {
        Some(w) => normed.try_mul(w)?,
        None => normed,
    };
    match bias {
        Some(b) => scaled.try_add(b),
        None => Ok(scaled),
    }
}

/// `conv1d` after checking its shapes under its own name.
fn conv1d_checked<T: Float>(
    input: &Tensor<T>,
    weight: &Tensor<T>,
    bias: Option<&Tensor<T>>,
    stride: usize,
    padding: usize,
    dilation: usize,
    groups: usize,
) -> Result<Tensor<T>> {
    let (x, w) = (input.shape(), weight.shape());
    if input.ndim() == 2 {
        let batched = input.try_unsqueeze(0)?;
        return conv1d_checked(&batched, weight, bias, stride, padding, dilation, groups)?
            .try_squeeze_dim(0);
    }
    let (&[_, c, len], &[_, cg, k]) = (x, w) else {
        return Err(Error::shape(
            "conv1d",
            format!(
                "expected an input [N, C, L] (or [C, L]) and a weight [O, C/groups, k], got \
                 {x:?} and {w:?}"
            ),
        ));
    };
    if groups == 0 || cg * groups != c {
        return Err(Error::shape(
            "conv1d",
            format!(
                "input {x:?} has {c} channels, but weight {w:?} with groups={groups} expects {}",
                cg * groups
            ),
        ));
    }
    let span = dilation
        .checked_mul(k.max(1) - 1)
        .and_then(|s| s.checked_add(1));
    let padded = padding.checked_mul(2).and_then(|p| p.checked_add(len));
    if !matches!((span, padded), (Some(s), Some(p)) if s <= p) {
        return Err(Error::shape(
            "conv1d",
            format!(
                "input {x:?} with padding {padding} is smaller than the kernel {k} (dilation \
                 {dilation}) of weight {w:?}"
            ),
        ));
    }
    let params = conv_params([1, stride], [0, padding], [1, dilation], groups);
    let y = conv2d_params(
        &input.try_unsqueeze(2)?,
        &weight.try_unsqueeze(2)?,
        bias,
        params,
    )
    .map_err(|e| Error::new(e.kind(), "conv1d", e.message()))?;
    y.try_squeeze_dim(2)
}

/// `batch_norm`, also returning the batch statistics' element count per channel.
#[allow(clippy::too_many_arguments)] // PyTorch's signature
pub(crate) fn batch_norm_checked<T: Float>(
    input: &Tensor<T>,
    running_mean: Option<&Tensor<T>>,
    running_var: Option<&Tensor<T>>,
    weight: Option<&Tensor<T>>,
    bias: Option<&Tensor<T>>,
    training: bool,
    momentum: T,
    eps: T,
) -> Result<(Tensor<T>, usize)> {
    let x = input.shape();
    if x.len() < 2 {
        return Err(Error::shape(
            "batch_norm",
            format!("expected an input [N, C, ...] of 2 or more dims, got {x:?}"),
        ));
    }
    let c = x[1];
    for (what, t) in [
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ] {
        if let Some(t) = t.filter(|t| t.shape() != [c]) {
            return Err(Error::shape(
                "batch_norm",
                format!(
                    "{what} must have shape [{c}] for input {x:?}, got {:?}",
                    t.shape()
                ),
            ));
        }
    }
    let count = input.numel().checked_div(c).unwrap_or(0);
    // Per channel, broadcast against the input: [1, C, 1, ...].
    let mut per_channel = vec![1usize; x.len()];
    per_channel[1] = c;
    let stats = if training || running_mean.is_none() || running_var.is_none() {
        if count <= 1 {
            return Err(Error::shape(
                "batch_norm",
                format!(
                    "expected more than 1 value per channel when training, got input of shape \
                     {x:?}"
                ),
            ));
        }
        let rows = input.try_transpose(0, 1)?.try_reshape(&[c, count])?;
        let mean = rows.try_mean_dim(1, true)?;
        let var = rows.try_sub(&mean)?.square().try_mean_dim(1, false)?;
        let mean = mean.try_reshape(&[c])?;
        if training {
            update_running(running_mean, &mean, momentum, T::one());
            let unbiased =
                T::from(count).unwrap_or_else(T::nan) / T::from(count - 1).unwrap_or_else(T::nan);
            update_running(running_var, &var, momentum, unbiased);
        }
        (mean, var)
    } else {
        let (Some(m), Some(v)) = (running_mean, running_var) else {
            unreachable!("checked above");
        };
        (m.clone(), v.clone())
    };
    let (mean, var) = (
        stats.0.try_reshape(&per_channel[..])?,
        stats.1.try_reshape(&per_channel[..])?,
    );
    let normed = input.try_sub(&mean)?.try_mul(&(var + eps).rsqrt())?;
    let weight = weight.map(|w| w.reshape(&per_channel[..]));
    let bias = bias.map(|b| b.reshape(&per_channel[..]));
    Ok((affine(normed, weight.as_ref(), bias.as_ref())?, count))
}

/// `running = (1 - momentum)·running + momentum·(batch·factor)`, in place, outside the tape
/// (PyTorch's order: `momentum·batch + (1 - momentum)·running`).
fn update_running<T: Float>(
    running: Option<&Tensor<T>>,
    batch: &Tensor<T>,
    momentum: T,
    factor: T,
) {
    let Some(running) = running else { return };
    let old = running.to_vec();
    let new: Vec<T> = old
        .iter()
        .zip(batch.to_vec())
        .map(|(&r, b)| momentum * (b * factor) + (T::one() - momentum) * r)
        .collect();
    write_values(running, new);
}
