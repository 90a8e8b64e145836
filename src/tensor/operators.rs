//! `+ - * /` and unary `-` for tensors: owned or borrowed, tensor or scalar, either side
//! (`&a + &b`, `0.5 * &t`, `&t - 1.0`, `-t`). Each panics on shapes that do not
//! broadcast, with the same text as the `try_` method. The impls come from the macro
//! that also gives `graph::Node` its operators.

use super::Tensor;

crate::operators::impl_arithmetic!(Tensor);
