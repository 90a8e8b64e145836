//! `autograd::grad` (`torch.autograd.grad`) and backward with `create_graph`: gradients
//! returned rather than accumulated, and gradients that have a graph of their own.

use super::grad_mode::enable_grad_guard;
use super::tape::Grad;
use super::walk;
use crate::array::Array;
use crate::element::Float;
use crate::error::{or_panic, Error, Result};
use crate::tensor::Tensor;

/// PyTorch's `backward(retain_graph=..., create_graph=...)` options, for
/// [`Tensor::backward_with_options`].
///
/// ```
/// use tapegrad::autograd::BackwardOptions;
/// let options = BackwardOptions { create_graph: true, ..BackwardOptions::default() };
/// assert!(options.create_graph && !options.retain_graph);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackwardOptions {
    /// Keep the values the graph saved, so it can be walked again.
    pub retain_graph: bool,
    /// Record the backward pass itself, so the gradients (in `.grad`) can be
    /// differentiated again. The graph is then kept too.
    pub create_graph: bool,
}

/// The options of [`grad_with_options`]: [`grad`]'s arguments plus PyTorch's `allow_unused`.
///
/// ```
/// use tapegrad::autograd::GradOptions;
/// let options = GradOptions::<f64> { allow_unused: true, ..GradOptions::default() };
/// assert!(options.grad_outputs.is_none());
/// ```
#[derive(Debug, Clone)]
pub struct GradOptions<T: Float = f32> {
    /// The gradient of each output (`None`: ones, for scalar outputs only).
    pub grad_outputs: Option<Vec<Tensor<T>>>,
    /// Record the backward pass, so the returned gradients can be differentiated again.
    pub create_graph: bool,
    /// Keep the values the graph saved (always, with `create_graph`).
    pub retain_graph: bool,
    /// Give `None` for an input the outputs do not depend on, instead of an error.
    pub allow_unused: bool,
}

impl<T: Float> Default for GradOptions<T> {
    fn default() -> Self {
        GradOptions {
            grad_outputs: None,
            create_graph: false,
            retain_graph: false,
            allow_unused: false,
        }
    }
}

/// The gradients of `outputs` (weighted by `grad_outputs`, ones if `None`) with respect to
/// each of `inputs`, like `torch.autograd.grad`: returned, not added to any `.grad`.
/// With `create_graph`, each gradient has a graph of its own and can be differentiated
/// again (a Hessian-vector product is the gradient of `grad · v`).
///
/// Errors: an input that does not require grad, or that the outputs do not depend on
/// (see [`grad_with_options`] for `allow_unused`); a non-scalar output without
/// `grad_outputs`; a `grad_outputs` entry of another shape; a graph already freed.
///
/// ```
/// use tapegrad::{autograd, Tensor};
/// let x = Tensor::<f64>::from_vec(vec![1.0, 2.0], &[2]).requires_grad_(true);
/// let y = x.pow(3.0).sum();                                          // Σ x³
/// let dy = autograd::grad(&[&y], &[&x], None, true, true).unwrap();  // 3x²
/// assert_eq!(dy[0].to_vec(), vec![3.0, 12.0]);
/// let d2y = autograd::grad(&[&dy[0].sum()], &[&x], None, false, false).unwrap(); // 6x
/// assert_eq!(d2y[0].to_vec(), vec![6.0, 12.0]);
/// assert!(x.grad().is_none()); // nothing was accumulated
/// ```
pub fn grad<T: Float>(
    outputs: &[&Tensor<T>],
    inputs: &[&Tensor<T>],
    grad_outputs: Option<&[&Tensor<T>]>,
    create_graph: bool,
    retain_graph: bool,
) -> Result<Vec<Tensor<T>>> {
    let options = GradOptions {
        grad_outputs: grad_outputs.map(|g| g.iter().map(|&t| t.clone()).collect()),
        create_graph,
        retain_graph,
        allow_unused: false,
    };
    let grads = grad_with_options(outputs, inputs, &options)?;
    Ok(grads
        .into_iter()
        .map(|g| g.expect("allow_unused is off: an unused input is an error"))
        .collect())
}

/// [`grad`] with every option, `allow_unused` among them: an input the outputs do not
/// depend on gets `None` rather than an error.
///
/// ```
/// use tapegrad::autograd::{grad_with_options, GradOptions};
/// use tapegrad::Tensor;
/// let x = Tensor::<f64>::ones(&[2]).requires_grad_(true);
/// let unused = Tensor::<f64>::ones(&[2]).requires_grad_(true);
/// let y = (&x * 2.0).sum();
/// let options = GradOptions { allow_unused: true, ..GradOptions::default() };
/// let grads = grad_with_options(&[&y], &[&x, &unused], &options).unwrap();
/// assert_eq!(grads[0].as_ref().unwrap().to_vec(), vec![2.0, 2.0]);
/// assert!(grads[1].is_none());
/// ```
pub fn grad_with_options<T: Float>(
    outputs: &[&Tensor<T>],
    inputs: &[&Tensor<T>],
    options: &GradOptions<T>,
) -> Result<Vec<Option<Tensor<T>>>> {
    if let Some(i) = inputs.iter().position(|t| !t.requires_grad()) {
        return Err(Error::autograd(
            "grad",
            format!("input {i} does not require grad (call requires_grad_(true) on it first)"),
        ));
    }
    let seeds = seeds("grad", outputs, options.grad_outputs.as_deref())?;
    let retain = options.retain_graph || options.create_graph;
    let grads: Vec<Option<Tensor<T>>> = if options.create_graph {
        let _recording = enable_grad_guard();
        // The given grad_outputs themselves, so gradients stay differentiable in them too
        // (`jvp`'s trick differentiates in a dummy cotangent).
        let seeds: Vec<Tensor<T>> = match &options.grad_outputs {
            Some(given) => given.clone(),
            None => seeds.into_iter().map(Tensor::from_array).collect(),
        };
        let roots = outputs.iter().map(|&o| o.clone()).zip(seeds);
        walk::walk(roots, retain, Some(inputs))?.captured
    } else {
        let roots = outputs.iter().map(|&o| o.clone()).zip(seeds);
        let captured = walk::walk(roots, retain, Some(inputs))?.captured;
        captured
            .into_iter()
            .map(|g| g.map(|g: Array<T>| g.to_tensor()))
            .collect()
    };
    if !options.allow_unused
        && let Some(i) = grads.iter().position(Option::is_none)
    {
        return Err(Error::autograd(
            "grad",
            format!(
                "input {i} was not used to compute the outputs (pass allow_unused in \
                     GradOptions to get None for it)"
            ),
        ));
    }
    Ok(grads)
}

/// The starting gradient of each output: its `grad_outputs` entry, or ones for a scalar.
fn seeds<T: Float>(
    op: &'static str,
    outputs: &[&Tensor<T>],
    grad_outputs: Option<&[Tensor<T>]>,
) -> Result<Vec<Array<T>>> {
    if let Some(g) = grad_outputs
        && g.len() != outputs.len()
    {
        return Err(Error::autograd(
            op,
            format!("{} grad_outputs for {} outputs", g.len(), outputs.len()),
        ));
    }
    outputs
        .iter()
        .enumerate()
        .map(|(i, out)| {
            if !out.requires_grad() {
                return Err(Error::autograd(
                    op,
                    format!("output {i} does not require grad and has no grad_fn"),
                ));
            }
            match grad_outputs {
                Some(g) if g[i].shape() != out.shape() => Err(Error::shape(
                    op,
                    format!(
                        "grad_outputs[{i}] has shape {:?}, but output {i} has shape {:?}",
                        g[i].shape(),
                        out.shape()
                    ),
                )),
                Some(g) => Ok(g[i].array().clone()),
                None if out.numel() != 1 => Err(Error::autograd(
                    op,
                    format!(
                        "grad can be implicitly created only for scalar outputs, but output {i} \
                         has shape {:?} (pass grad_outputs)",
                        out.shape()
                    ),
                )),
                None => Ok(Array::full(out.shape(), T::one())),
            }
        })
        .collect()
}

impl<T: Float> Tensor<T> {
    /// `backward` with PyTorch's options: `retain_graph`, and `create_graph`, which records
    /// the backward pass so the gradients it accumulates can be differentiated again.
    /// Panics where [`Tensor::try_backward_with_options`] returns an error.
    ///
    /// ```
    /// use tapegrad::autograd::BackwardOptions;
    /// use tapegrad::Tensor;
    /// let x = Tensor::<f64>::from_vec(vec![2.0], &[1]).requires_grad_(true);
    /// x.pow(3.0).sum().backward_with_options(BackwardOptions { create_graph: true, retain_graph: true });
    /// let first = x.grad().unwrap(); // 3x² = 12, with a graph of its own
    /// assert_eq!(first.to_vec(), vec![12.0]);
    /// x.clear_grad();
    /// first.sum().backward(); // d(3x²)/dx = 6x
    /// assert_eq!(x.grad().unwrap().to_vec(), vec![12.0]);
    /// ```
    #[track_caller]
    pub fn backward_with_options(&self, options: BackwardOptions) {
        or_panic(self.try_backward_with_options(options))
    }

    /// [`Tensor::backward_with_options`] returning an error (a non-scalar tensor, a graph
    /// already freed, a saved value modified in place) instead of panicking.
    ///
    /// ```
    /// use tapegrad::autograd::BackwardOptions;
    /// use tapegrad::Tensor;
    /// let x = Tensor::<f64>::ones(&[2]).requires_grad_(true);
    /// assert!((&x * 2.0).try_backward_with_options(BackwardOptions::default()).is_err());
    /// ```
    pub fn try_backward_with_options(&self, options: BackwardOptions) -> Result<()> {
        let seed = seeds("backward", &[self], None)?.remove(0);
        let retain = options.retain_graph || options.create_graph;
        walk::backward(self, seed, retain, options.create_graph)
    }
}
