//! Which primitive float a generic `T` is, for the code that must know (the GEMM, the
//! buffer pool).

use std::mem::{align_of, size_of};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Dtype {
    F32,
    F64,
}

impl Dtype {
    /// `Some` only when `T` is the primitive `f32` or `f64`. `T: Float` carries no
    /// `'static` bound (so no `TypeId`); the primitive's type name together with its size
    /// and alignment identifies it, which is what makes the casts that callers do sound.
    pub(crate) fn of<T>() -> Option<Dtype> {
        let name = std::any::type_name::<T>();
        if name == "f32" && size_of::<T>() == 4 && align_of::<T>() == align_of::<f32>() {
            Some(Dtype::F32)
        } else if name == "f64" && size_of::<T>() == 8 && align_of::<T>() == align_of::<f64>() {
            Some(Dtype::F64)
        } else {
            None
        }
    }
}
