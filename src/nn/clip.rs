//! Gradient clipping and parameter counting: `clip_grad_norm_`, `clip_grad_value_`,
//! `parameter_count`, as `torch.nn.utils` has them.

use super::Module;
use crate::autograd::no_grad;
use crate::element::Float;
use crate::tensor::Tensor;

/// Scales the gradients of `params` together so that their joint 2-norm is at most
/// `max_norm`, like `torch.nn.utils.clip_grad_norm_`: each gradient is multiplied by
/// `min(1, max_norm / (total + 1e-6))`. Returns the total norm before clipping (summed in
/// f64). Parameters without a gradient are skipped. Takes `&model.parameters()`.
///
/// ```
/// use tapegrad::nn::clip_grad_norm_;
/// use tapegrad::Tensor;
/// let w: Tensor<f64> = Tensor::from_vec(vec![1.0, 1.0], &[2]).requires_grad_(true);
/// (&w * &Tensor::from_vec(vec![3.0, 4.0], &[2])).sum().backward(); // grad (3, 4): norm 5
/// let total = clip_grad_norm_(&vec![w.clone()], 1.0);
/// assert_eq!(total, 5.0);
/// let g = w.grad().unwrap().to_vec();
/// assert!((g[0] - 0.6).abs() < 1e-6 && (g[1] - 0.8).abs() < 1e-6);
/// ```
pub fn clip_grad_norm_<T: Float>(params: &[Tensor<T>], max_norm: T) -> T {
    let grads: Vec<Tensor<T>> = params.iter().filter_map(Tensor::grad).collect();
    let squares: f64 = grads
        .iter()
        .flat_map(|g| g.to_vec())
        .map(|v| {
            let v = v.to_f64().unwrap_or(f64::NAN);
            v * v
        })
        .sum();
    let total = squares.sqrt();
    let coef = (max_norm.to_f64().unwrap_or(f64::NAN) / (total + 1e-6)).min(1.0);
    let coef = T::from(coef).unwrap_or_else(T::nan);
    no_grad(|| {
        for g in &grads {
            g.mul_(&Tensor::scalar(coef));
        }
    });
    T::from(total).unwrap_or_else(T::nan)
}

/// Clamps every gradient element of `params` to `[-value, value]`, like
/// `torch.nn.utils.clip_grad_value_`.
///
/// ```
/// use tapegrad::nn::clip_grad_value_;
/// use tapegrad::Tensor;
/// let w: Tensor = Tensor::from_vec(vec![1.0, 1.0], &[2]).requires_grad_(true);
/// (&w * &Tensor::from_vec(vec![-3.0, 0.5], &[2])).sum().backward();
/// clip_grad_value_(&vec![w.clone()], 1.0);
/// assert_eq!(w.grad().unwrap().to_vec(), vec![-1.0, 0.5]);
/// ```
pub fn clip_grad_value_<T: Float>(params: &[Tensor<T>], value: T) {
    no_grad(|| {
        for g in params.iter().filter_map(Tensor::grad) {
            let clipped = g.clamp(-value, value);
            g.copy_(&clipped);
        }
    });
}

/// The number of parameter elements of `module`, like
/// `sum(p.numel() for p in model.parameters())`.
///
/// ```
/// use tapegrad::nn::{parameter_count, Linear, Relu, Sequential};
/// let model: Sequential = Sequential::new().add(Linear::new(4, 8)).add(Relu).add(Linear::new(8, 2));
/// assert_eq!(parameter_count(&model), 4 * 8 + 8 + 8 * 2 + 2);
/// ```
pub fn parameter_count<T: Float, M: Module<T> + ?Sized>(module: &M) -> usize {
    module.parameters().iter().map(Tensor::numel).sum()
}
