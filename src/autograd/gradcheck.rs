//! `gradcheck`: compares backward's gradients with central finite differences in f64.

use super::grad_mode::no_grad;
use crate::tensor::Tensor;
use std::fmt;

/// Step and tolerances for [`gradcheck`]; the defaults are PyTorch's.
///
/// ```
/// use tapegrad::autograd::GradcheckOptions;
/// let strict = GradcheckOptions { atol: 1e-8, ..GradcheckOptions::default() };
/// assert!(strict.atol < GradcheckOptions::default().atol);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GradcheckOptions {
    /// Finite-difference step.
    pub eps: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance (relative to the numerical gradient).
    pub rtol: f64,
}

impl Default for GradcheckOptions {
    fn default() -> Self {
        GradcheckOptions {
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
        }
    }
}

/// The outcome of [`gradcheck`], naming the worst element.
///
/// ```
/// use tapegrad::autograd::{gradcheck, GradcheckOptions};
/// use tapegrad::Tensor;
/// let x = Tensor::<f64>::from_vec(vec![0.5, -1.0], &[2]);
/// let report = gradcheck(|v| v[0].tanh().sum(), &[x], GradcheckOptions::default());
/// assert!(report.passed, "{report}");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GradcheckReport {
    /// True if every element was within tolerance.
    pub passed: bool,
    /// Elements compared.
    pub checked: usize,
    /// The element with the largest error relative to its tolerance:
    /// (input index, flat element index, analytic, numerical).
    pub worst: Option<(usize, usize, f64, f64)>,
}

impl fmt::Display for GradcheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.passed { "passed" } else { "FAILED" };
        write!(f, "gradcheck {verdict} on {} elements", self.checked)?;
        if let Some((input, index, analytic, numeric)) = self.worst {
            write!(
                f,
                "; worst: input {input}, element {index}: backward gave {analytic:e}, finite differences {numeric:e} \
                 (difference {:e})",
                (analytic - numeric).abs()
            )?;
        }
        Ok(())
    }
}

impl GradcheckReport {
    /// Counts one element (input, flat index, analytic, numerical), keeping the worst.
    fn compare(
        &mut self,
        options: &GradcheckOptions,
        worst_excess: &mut f64,
        (i, j, a, numeric): (usize, usize, f64, f64),
    ) {
        let excess = (a - numeric).abs() - (options.atol + options.rtol * numeric.abs());
        self.checked += 1;
        if excess > 0.0 || excess.is_nan() {
            self.passed = false;
        }
        if excess > *worst_excess
            || excess.is_nan() && self.worst.is_none_or(|w| !(w.2 - w.3).is_nan())
        {
            *worst_excess = excess;
            self.worst = Some((i, j, a, numeric));
        }
    }
}

/// Checks the gradients of `f` at `inputs` against central finite differences.
///
/// `f` may return any shape: both sides differentiate `sum(f(x) * v)` for a fixed,
/// irregular weighting `v`, which tests the whole vector-Jacobian product backward computes.
/// Inputs are used as given (their values), and each gets `requires_grad` for the check.
///
/// ```
/// use tapegrad::autograd::{gradcheck, GradcheckOptions};
/// use tapegrad::Tensor;
/// let x = Tensor::<f64>::randn(&[3, 2]);
/// let report = gradcheck(|v| v[0].tanh().mm(&v[0].t()), &[x], GradcheckOptions::default());
/// assert!(report.passed, "{report}");
/// ```
pub fn gradcheck<F>(f: F, inputs: &[Tensor<f64>], options: GradcheckOptions) -> GradcheckReport
where
    F: Fn(&[Tensor<f64>]) -> Tensor<f64>,
{
    let leaves: Vec<Tensor<f64>> = inputs
        .iter()
        .map(|t| Tensor::from_vec(t.to_vec(), t.shape()).requires_grad_(true))
        .collect();
    let out = f(&leaves);
    let weights = Tensor::from_vec(
        (0..out.numel())
            .map(|i| 1.0 + 0.37 * (i % 7) as f64 - 0.11 * (i % 3) as f64)
            .collect(),
        out.shape(),
    );
    let objective = |out: &Tensor<f64>| (out * &weights).sum();
    objective(&out).backward();

    let mut report = GradcheckReport {
        passed: true,
        checked: 0,
        worst: None,
    };
    let mut worst_excess = f64::NEG_INFINITY;
    for (i, leaf) in leaves.iter().enumerate() {
        let analytic = leaf
            .grad()
            .map_or_else(|| vec![0.0; leaf.numel()], |g| g.to_vec());
        let base = leaf.to_vec();
        for (j, &a) in analytic.iter().enumerate() {
            let at = |delta: f64| {
                let mut values = base.clone();
                values[j] += delta;
                let mut moved: Vec<Tensor<f64>> = leaves.iter().map(Tensor::detach).collect();
                moved[i] = Tensor::from_vec(values, leaf.shape());
                no_grad(|| objective(&f(&moved)).item())
            };
            let numeric = (at(options.eps) - at(-options.eps)) / (2.0 * options.eps);
            report.compare(&options, &mut worst_excess, (i, j, a, numeric));
        }
    }
    report
}

/// Checks the second derivatives of `f` at `inputs` against central finite differences of
/// its first derivatives, in f64, like PyTorch's `gradgradcheck`: with fixed irregular
/// weightings `w` of the output and `v` of each input, the gradient (by backward with
/// `create_graph`) of `Σ ⟨∂ sum(f · w) / ∂xᵢ, vᵢ⟩` is compared with finite differences of
/// that same sum (its first derivatives computed by backward at each moved point).
/// `Err` names the worst element (see [`gradgradcheck_report`] for the report itself).
///
/// ```
/// use tapegrad::autograd::gradgradcheck;
/// use tapegrad::Tensor;
/// let x = Tensor::<f64>::from_vec(vec![0.5, -1.0, 2.0], &[3]);
/// gradgradcheck(|v| v[0].tanh() * &v[0], &[x]).unwrap();
/// ```
pub fn gradgradcheck<F>(f: F, inputs: &[Tensor<f64>]) -> crate::Result<()>
where
    F: Fn(&[Tensor<f64>]) -> Tensor<f64>,
{
    let report = gradgradcheck_report(f, inputs, GradcheckOptions::default())?;
    if report.passed {
        Ok(())
    } else {
        Err(crate::Error::autograd(
            "gradgradcheck",
            format!("second derivatives: {report}"),
        ))
    }
}

/// [`gradgradcheck`] with its step and tolerances, returning the report; `Err` only when a
/// derivative cannot be computed at all (an op without a second derivative, say).
///
/// ```
/// use tapegrad::autograd::{gradgradcheck_report, GradcheckOptions};
/// use tapegrad::Tensor;
/// let x = Tensor::<f64>::from_vec(vec![0.3, 1.2], &[2]);
/// let report = gradgradcheck_report(|v| v[0].sin().sum(), &[x], GradcheckOptions::default()).unwrap();
/// assert!(report.passed, "{report}");
/// ```
pub fn gradgradcheck_report<F>(
    f: F,
    inputs: &[Tensor<f64>],
    options: GradcheckOptions,
) -> crate::Result<GradcheckReport>
where
    F: Fn(&[Tensor<f64>]) -> Tensor<f64>,
{
    let irregular = |n: usize, a: f64| -> Vec<f64> {
        (0..n)
            .map(|i| a + 0.29 * (i % 5) as f64 - 0.13 * (i % 3) as f64)
            .collect()
    };
    let tangents: Vec<Tensor<f64>> = inputs
        .iter()
        .map(|t| Tensor::from_vec(irregular(t.numel(), -0.4), t.shape()))
        .collect();
    // Σ ⟨∂ sum(f(x) · w) / ∂xᵢ, vᵢ⟩ at `values`, recorded if `create_graph`.
    let first_dot = |values: &[Tensor<f64>],
                     create_graph: bool|
     -> crate::Result<(Vec<Tensor<f64>>, Tensor<f64>)> {
        let leaves: Vec<Tensor<f64>> = values
            .iter()
            .map(|t| Tensor::from_vec(t.to_vec(), t.shape()).requires_grad_(true))
            .collect();
        let out = f(&leaves);
        let w = Tensor::from_vec(irregular(out.numel(), 1.0), out.shape());
        let objective = (&out * &w).sum();
        let refs: Vec<&Tensor<f64>> = leaves.iter().collect();
        let options = super::GradOptions {
            create_graph,
            allow_unused: true,
            ..super::GradOptions::default()
        };
        let grads = if objective.requires_grad() {
            super::grad_with_options(&[&objective], &refs, &options)?
        } else {
            vec![None; leaves.len()]
        };
        let mut dot = Tensor::scalar(0.0);
        for (g, v) in grads.iter().zip(&tangents) {
            if let Some(g) = g {
                dot = &dot + &(g * v).sum();
            }
        }
        Ok((leaves, dot))
    };
    let (leaves, dot) = first_dot(inputs, true)?;
    let analytic: Vec<Vec<f64>> = if dot.requires_grad() {
        let refs: Vec<&Tensor<f64>> = leaves.iter().collect();
        let options = super::GradOptions {
            allow_unused: true,
            ..super::GradOptions::default()
        };
        super::grad_with_options(&[&dot], &refs, &options)?
            .into_iter()
            .zip(&leaves)
            .map(|(g, x)| g.map_or_else(|| vec![0.0; x.numel()], |g| g.to_vec()))
            .collect()
    } else {
        leaves.iter().map(|x| vec![0.0; x.numel()]).collect()
    };
    let mut report = GradcheckReport {
        passed: true,
        checked: 0,
        worst: None,
    };
    let mut worst_excess = f64::NEG_INFINITY;
    for (i, input) in inputs.iter().enumerate() {
        let base = input.to_vec();
        for (j, &a) in analytic[i].iter().enumerate() {
            let at = |delta: f64| -> crate::Result<f64> {
                let mut values = base.clone();
                values[j] += delta;
                let mut moved: Vec<Tensor<f64>> = inputs.iter().map(Tensor::detach).collect();
                moved[i] = Tensor::from_vec(values, input.shape());
                Ok(first_dot(&moved, false)?.1.item())
            };
            let numeric = (at(options.eps)? - at(-options.eps)?) / (2.0 * options.eps);
            report.compare(&options, &mut worst_excess, (i, j, a, numeric));
        }
    }
    Ok(report)
}
