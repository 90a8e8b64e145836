//! Comparing computed numbers with reference numbers (PyTorch's, a hand derivation's).

/// Each `actual[i]` within `tol` of `expected[i]`, relative to `1 + |expected[i]|`.
pub fn assert_close(actual: &[f64], expected: &[f64], tol: f64, what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= tol * (1.0 + e.abs()),
            "{what}[{i}]: {a} vs the reference {e}\n  all: {actual:?}"
        );
    }
}
