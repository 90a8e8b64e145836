//! `torch.autograd.functional`: vector-Jacobian and Jacobian-vector products, Hessian-vector
//! products, and whole Jacobians and Hessians of a function of tensors.
//!
//! Each function takes the function first (a closure over `&[Tensor<T>]` returning one
//! tensor), then the inputs, then the vectors, and returns PyTorch's results: the output
//! (detached) and the products, one per input. Inputs are used by value: the function sees
//! fresh leaves holding their data, so nothing is accumulated into any `.grad`.
//!
//! `jvp` uses the double-vjp trick rather than forward mode: `Jv` is the gradient, with
//! respect to a dummy cotangent `u`, of `uᵀJ`, which is linear in `u`. It needs no second
//! set of rules (every op already has its reverse rule, written to be differentiated again)
//! and costs two backward passes, as PyTorch's `jvp` (which uses the same trick).

use super::grad::{grad_with_options, GradOptions};
use crate::element::Float;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Fresh leaves holding the inputs' data, requiring grad.
fn leaves<T: Float>(inputs: &[&Tensor<T>]) -> Vec<Tensor<T>> {
    inputs
        .iter()
        .map(|t| t.detach().requires_grad_(true))
        .collect()
}

/// The gradients of `outputs` (weighted by `grad_outputs`) for every leaf, zeros for a leaf
/// the outputs do not depend on (as `torch.autograd.functional` returns).
fn grads_or_zeros<T: Float>(
    outputs: &Tensor<T>,
    xs: &[&Tensor<T>],
    grad_output: Option<&Tensor<T>>,
    create_graph: bool,
) -> Result<Vec<Tensor<T>>> {
    if !outputs.requires_grad() {
        return Ok(xs.iter().map(|x| Tensor::zeros(x.shape())).collect());
    }
    let options = GradOptions {
        grad_outputs: grad_output.map(|g| vec![g.clone()]),
        create_graph,
        retain_graph: true,
        allow_unused: true,
    };
    Ok(grad_with_options(&[outputs], xs, &options)?
        .into_iter()
        .zip(xs)
        .map(|(g, x)| g.unwrap_or_else(|| Tensor::zeros(x.shape())))
        .collect())
}

/// `Σᵢ sum(aᵢ · bᵢ)`, recorded: the scalar whose gradient gives a product with `b`.
fn dot_all<T: Float>(a: &[Tensor<T>], b: &[&Tensor<T>]) -> Tensor<T> {
    a.iter()
        .zip(b)
        .map(|(a, b)| (a * *b).sum())
        .reduce(|total, term| &total + &term)
        .unwrap_or_else(|| Tensor::scalar(T::zero()))
}

fn check_vectors<T: Float>(
    op: &'static str,
    what: &str,
    vectors: &[&Tensor<T>],
    like: &[&Tensor<T>],
) -> Result<()> {
    if vectors.len() != like.len() {
        return Err(Error::shape(
            op,
            format!("{} {what} for {} inputs", vectors.len(), like.len()),
        ));
    }
    for (i, (v, x)) in vectors.iter().zip(like).enumerate() {
        if v.shape() != x.shape() {
            return Err(Error::shape(
                op,
                format!(
                    "{what} {i} has shape {:?}, but input {i} has shape {:?}",
                    v.shape(),
                    x.shape()
                ),
            ));
        }
    }
    Ok(())
}

/// `(f(inputs), vᵀ J)`: the output and the vector-Jacobian product for each input
/// (`torch.autograd.functional.vjp`). `v` has the output's shape.
///
/// ```
/// use tapegrad::autograd::functional::vjp;
/// use tapegrad::Tensor;
/// let x = Tensor::<f64>::from_vec(vec![1.0, 2.0], &[2]);
/// let v = Tensor::from_vec(vec![1.0, 10.0], &[2]);
/// let (y, vj) = vjp(|x| x[0].pow(2.0), &[&x], &v).unwrap(); // J = diag(2x)
/// assert_eq!(y.to_vec(), vec![1.0, 4.0]);
/// assert_eq!(vj[0].to_vec(), vec![2.0, 40.0]);
/// ```
pub fn vjp<T: Float, F>(
    f: F,
    inputs: &[&Tensor<T>],
    v: &Tensor<T>,
) -> Result<(Tensor<T>, Vec<Tensor<T>>)>
where
    F: Fn(&[Tensor<T>]) -> Tensor<T>,
{
    let xs = leaves(inputs);
    let out = f(&xs);
    check_vectors("vjp", "v", &[v], &[&out])?;
    let refs: Vec<&Tensor<T>> = xs.iter().collect();
    let products = grads_or_zeros(&out, &refs, Some(v), false)?;
    Ok((out.detach(), products))
}

/// `(f(inputs), J v)`: the output and the Jacobian-vector product, `v` holding one tangent
/// per input (`torch.autograd.functional.jvp`), by the double-vjp trick (see the module).
///
/// ```
/// use tapegrad::autograd::functional::jvp;
/// use tapegrad::Tensor;
/// let x = Tensor::<f64>::from_vec(vec![1.0, 2.0], &[2]);
/// let v = Tensor::from_vec(vec![1.0, 10.0], &[2]);
/// let (_, jv) = jvp(|x| x[0].pow(2.0).sum(), &[&x], &[&v]).unwrap(); // ∇ = 2x
/// assert_eq!(jv.item(), 42.0);
/// ```
pub fn jvp<T: Float, F>(
    f: F,
    inputs: &[&Tensor<T>],
    v: &[&Tensor<T>],
) -> Result<(Tensor<T>, Tensor<T>)>
where
    F: Fn(&[Tensor<T>]) -> Tensor<T>,
{
    check_vectors("jvp", "v", v, inputs)?;
    let xs = leaves(inputs);
    let out = f(&xs);
    if !out.requires_grad() {
        return Ok((out.detach(), Tensor::zeros(out.shape())));
    }
    let refs: Vec<&Tensor<T>> = xs.iter().collect();
    // uᵀJ for a dummy u, recorded: it is linear in u, and its gradient in u along v is Jv.
    let u = Tensor::zeros(out.shape()).requires_grad_(true);
    let ujs = grads_or_zeros(&out, &refs, Some(&u), true)?;
    let dot = dot_all(&ujs, v);
    let jv = grads_or_zeros(&dot, &[&u], None, false)?.remove(0);
    Ok((out.detach(), jv))
}

/// `(f(inputs), vᵀ H)` for a scalar `f`: the vector-Hessian product, one per input
/// (`torch.autograd.functional.vhp`): the gradient of `∇f · v`.
///
/// ```
/// use tapegrad::autograd::functional::vhp;
/// use tapegrad::Tensor;
/// let x = Tensor::<f64>::from_vec(vec![1.0, 2.0], &[2]);
/// let v = Tensor::from_vec(vec![1.0, 0.0], &[2]);
/// let (f, vh) = vhp(|x| x[0].pow(3.0).sum(), &[&x], &[&v]).unwrap(); // H = diag(6x)
/// assert_eq!(f.item(), 9.0);
/// assert_eq!(vh[0].to_vec(), vec![6.0, 0.0]);
/// ```
pub fn vhp<T: Float, F>(
    f: F,
    inputs: &[&Tensor<T>],
    v: &[&Tensor<T>],
) -> Result<(Tensor<T>, Vec<Tensor<T>>)>
where
    F: Fn(&[Tensor<T>]) -> Tensor<T>,
{
    check_vectors("vhp", "v", v, inputs)?;
    let xs = leaves(inputs);
    let out = f(&xs);
    scalar_output("vhp", &out)?;
    let refs: Vec<&Tensor<T>> = xs.iter().collect();
    let grads = grads_or_zeros(&out, &refs, None, true)?;
    let products = grads_or_zeros(&dot_all(&grads, v), &refs, None, false)?;
    Ok((out.detach(), products))
}

/// `(f(inputs), H v)` for a scalar `f` (`torch.autograd.functional.hvp`). The Hessian of a
/// function with continuous second derivatives is symmetric, so this is [`vhp`]'s product:
/// one double backward, where PyTorch's `hvp` takes two more passes to transpose.
///
/// ```
/// use tapegrad::autograd::functional::hvp;
/// use tapegrad::Tensor;
/// let x = Tensor::<f64>::from_vec(vec![1.0, 2.0], &[2]);
/// let v = Tensor::from_vec(vec![1.0, 1.0], &[2]);
/// let (_, hv) = hvp(|x| (&x[0].i(0) * &x[0].i(1)), &[&x], &[&v]).unwrap(); // H = [[0,1],[1,0]]
/// assert_eq!(hv[0].to_vec(), vec![1.0, 1.0]);
/// ```
pub fn hvp<T: Float, F>(
    f: F,
    inputs: &[&Tensor<T>],
    v: &[&Tensor<T>],
) -> Result<(Tensor<T>, Vec<Tensor<T>>)>
where
    F: Fn(&[Tensor<T>]) -> Tensor<T>,
{
    vhp(f, inputs, v).map_err(|e| Error::new(e.kind(), "hvp", e.message()))
}

fn scalar_output<T: Float>(op: &'static str, out: &Tensor<T>) -> Result<()> {
    if out.numel() == 1 {
        Ok(())
    } else {
        Err(Error::shape(
            op,
            format!(
                "the function must return a single value, not shape {:?}",
                out.shape()
            ),
        ))
    }
}

/// The Jacobian of `f` for each input, of shape `output.shape ++ input.shape`
/// (`torch.autograd.functional.jacobian`), one backward pass per output element.
///
/// ```
/// use tapegrad::autograd::functional::jacobian;
/// use tapegrad::Tensor;
/// let x = Tensor::<f64>::from_vec(vec![1.0, 2.0], &[2]);
/// let j = jacobian(|x| x[0].pow(2.0), &[&x]).unwrap();
/// assert_eq!(j[0].shape(), &[2, 2]);
/// assert_eq!(j[0].to_vec(), vec![2.0, 0.0, 0.0, 4.0]);
/// ```
pub fn jacobian<T: Float, F>(f: F, inputs: &[&Tensor<T>]) -> Result<Vec<Tensor<T>>>
where
    F: Fn(&[Tensor<T>]) -> Tensor<T>,
{
    let xs = leaves(inputs);
    let out = f(&xs);
    let refs: Vec<&Tensor<T>> = xs.iter().collect();
    rows_of(&out, &refs)
}

/// The Jacobian of `out` (already computed from `xs`) as blocks, one per input.
fn rows_of<T: Float>(out: &Tensor<T>, xs: &[&Tensor<T>]) -> Result<Vec<Tensor<T>>> {
    let m = out.numel();
    let mut blocks: Vec<Vec<T>> = xs
        .iter()
        .map(|x| Vec::with_capacity(m * x.numel()))
        .collect();
    for row in 0..m {
        let mut onehot = vec![T::zero(); m];
        onehot[row] = T::one();
        let seed = Tensor::from_vec(onehot, out.shape());
        for (block, g) in blocks
            .iter_mut()
            .zip(grads_or_zeros(out, xs, Some(&seed), false)?)
        {
            block.extend(g.to_vec());
        }
    }
    Ok(blocks
        .into_iter()
        .zip(xs)
        .map(|(data, x)| {
            let shape: Vec<usize> = out.shape().iter().chain(x.shape()).copied().collect();
            Tensor::from_vec(data, &shape)
        })
        .collect())
}

/// The Hessian of a scalar `f`, as blocks `d²f / d input_i d input_j` of shape
/// `input_i.shape ++ input_j.shape`, in row-major order of `(i, j)`: `n²` tensors for `n`
/// inputs (`torch.autograd.functional.hessian`'s tuple of tuples, flattened).
///
/// ```
/// use tapegrad::autograd::functional::hessian;
/// use tapegrad::Tensor;
/// let x = Tensor::<f64>::from_vec(vec![1.0, 2.0], &[2]);
/// let h = hessian(|x| x[0].pow(3.0).sum(), &[&x]).unwrap();
/// assert_eq!(h[0].to_vec(), vec![6.0, 0.0, 0.0, 12.0]);
/// ```
pub fn hessian<T: Float, F>(f: F, inputs: &[&Tensor<T>]) -> Result<Vec<Tensor<T>>>
where
    F: Fn(&[Tensor<T>]) -> Tensor<T>,
{
    let xs = leaves(inputs);
    let out = f(&xs);
    scalar_output("hessian", &out)?;
    let refs: Vec<&Tensor<T>> = xs.iter().collect();
    let grads = grads_or_zeros(&out, &refs, None, true)?;
    let mut blocks = Vec::with_capacity(xs.len() * xs.len());
    for g in &grads {
        blocks.extend(rows_of(g, &refs)?);
    }
    Ok(blocks)
}
