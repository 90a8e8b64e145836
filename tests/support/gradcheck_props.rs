//! What the gradcheck property tests share: the check itself (f64 central differences
//! with PyTorch-like tolerances) and pairs of shapes that broadcast together.

use proptest::prelude::*;
use tapegrad::autograd::{gradcheck, gradgradcheck_report, GradcheckOptions};
use tapegrad::Tensor;

/// `gradcheck` of `f` at `inputs`, as a proptest failure naming the worst element.
pub fn check(
    f: impl Fn(&[Tensor<f64>]) -> Tensor<f64>,
    inputs: &[Tensor<f64>],
) -> Result<(), TestCaseError> {
    let report = gradcheck(
        f,
        inputs,
        GradcheckOptions {
            eps: 1e-6,
            atol: 1e-6,
            rtol: 1e-4,
        },
    );
    prop_assert!(report.passed, "{}", report);
    Ok(())
}

/// `gradgradcheck` of `f` at `inputs` (second derivatives against finite differences of
/// the first), as a proptest failure naming the worst element.
#[allow(dead_code)] // not every test file checks second derivatives
pub fn check2(
    f: impl Fn(&[Tensor<f64>]) -> Tensor<f64>,
    inputs: &[Tensor<f64>],
) -> Result<(), TestCaseError> {
    let options = GradcheckOptions {
        eps: 1e-6,
        atol: 1e-6,
        rtol: 1e-4,
    };
    let report = gradgradcheck_report(f, inputs, options)
        .map_err(|e| TestCaseError::fail(format!("gradgradcheck could not run: {e}")))?;
    prop_assert!(report.passed, "{}", report);
    Ok(())
}

/// A shape from `shape` and another that broadcasts with it (dims knocked down to 1,
/// leading dims dropped).
#[allow(dead_code)] // not every test file broadcasts
pub fn broadcast_pair(
    shape: impl Strategy<Value = Vec<usize>>,
) -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    shape.prop_flat_map(|out| {
        let n = out.len();
        (Just(out), prop::collection::vec(any::<bool>(), n), 0..=n).prop_map(|(out, ones, drop)| {
            let other = out
                .iter()
                .zip(&ones)
                .skip(drop)
                .map(|(&d, &one)| if one { 1 } else { d })
                .collect();
            (out, other)
        })
    })
}
