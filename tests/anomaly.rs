//! Anomaly mode: a NaN or infinity made by backward is an error naming the op and the
//! user's line that called it; off, backward lets it through as before.

use tapegrad::autograd::{detect_anomaly, is_anomaly_enabled, set_detect_anomaly};
use tapegrad::nn::{Linear, Module, Sequential};
use tapegrad::Tensor;

fn at(line: u32) -> String {
    format!("{}:{line}:", file!())
}

#[test]
fn a_nan_from_backward_names_the_op_and_the_users_line() {
    let x = Tensor::<f64>::from_vec(vec![0.0, 2.0], &[2]).requires_grad_(true);
    let error = detect_anomaly(|| {
        let y = x.log(); // d log(x)/dx = 1/x: inf at 0
        let line = line!() - 1;
        (y.sum().try_backward().unwrap_err().to_string(), line)
    });
    let (message, line) = error;
    assert!(message.contains("LogBackward"), "{message}");
    assert!(message.contains(&at(line)), "{message}");
    assert!(x.grad().is_none(), "nothing was accumulated");
    assert!(!is_anomaly_enabled(), "detect_anomaly restores the mode");

    // Off, the same backward succeeds and lets the infinity through, as PyTorch.
    x.log().sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![f64::INFINITY, 0.5]);
}

#[test]
fn operators_and_modules_report_the_line_that_called_them() {
    set_detect_anomaly(true);
    let a = Tensor::<f64>::from_vec(vec![1.0, 2.0], &[2]).requires_grad_(true);
    let zero = Tensor::<f64>::from_vec(vec![0.0, 1.0], &[2]).requires_grad_(true);
    let q = &a / &zero;
    let line = line!() - 1;
    let message = q.sum().try_backward().unwrap_err().to_string();
    assert!(
        message.contains("DivBackward") && message.contains(&at(line)),
        "{message}"
    );

    // Ops recorded inside a module are reported at the user's forward call.
    let model: Sequential<f64> = Sequential::new().add(Linear::new(2, 2));
    let h = model.forward(&Tensor::from_vec(vec![1.0, -1.0], &[1, 2]));
    let sqrt = h.sqrt().sum(); // the NaN of a negative's sqrt is made forward, then back
    let line = line!() - 1;
    let message = sqrt.try_backward().unwrap_err().to_string();
    assert!(
        message.contains("SqrtBackward") && message.contains(&at(line)),
        "{message}"
    );
    set_detect_anomaly(false);
}

#[test]
fn finite_gradients_pass_anomaly_mode_unchanged() {
    let w = Tensor::<f64>::from_vec(vec![0.5, -1.5], &[2]).requires_grad_(true);
    detect_anomaly(|| (&w * &w).exp().sum().backward());
    let expected: Vec<f64> = [0.5f64, -1.5]
        .iter()
        .map(|v| 2.0 * v * (v * v).exp())
        .collect();
    assert_eq!(w.grad().unwrap().to_vec(), expected);
}
