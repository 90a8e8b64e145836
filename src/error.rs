//! One error type for the whole crate.
//!
//! Every error names the op that failed and, where shapes are involved, the shapes, so a
//! message reads like `mm: cannot multiply [2, 3] by [4, 5]: inner dimensions 3 and 4 differ`.
//! Each fallible op has a `try_` form returning [`Result`]; the plain form panics with the
//! error's `Display` text as its `String` payload.

use std::fmt;

/// What kind of failure an [`Error`] reports.
///
/// ```
/// use tapegrad::{ErrorKind, Tensor};
/// let x: Tensor = Tensor::zeros(&[2, 3]);
/// assert_eq!(x.try_sum_dim(5, false).unwrap_err().kind(), ErrorKind::Index);
/// assert_eq!(x.try_reshape(&[4]).unwrap_err().kind(), ErrorKind::Shape);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Shapes that do not fit the op (broadcasting, matmul, reshape, data length, ...).
    Shape,
    /// A dimension index or element index out of range.
    Index,
    /// An autograd rule was broken (backward from a non-scalar, in-place on a leaf, ...).
    Autograd,
    /// Reading or writing a file failed.
    Io,
    /// A file's contents are not what was expected.
    Format,
    /// A static graph was misused (missing feed, node of another graph, ...).
    Graph,
    /// An argument outside its valid range (a negative learning rate, ...).
    Value,
    /// The memory for a result could not be allocated.
    OutOfMemory,
}

/// The crate's error: the failing op, what kind of failure, and a message with the shapes.
///
/// ```
/// use tapegrad::Tensor;
/// let a: Tensor = Tensor::zeros(&[2, 3]);
/// let e = a.try_mm(&Tensor::zeros(&[4, 5])).unwrap_err();
/// assert_eq!(e.op(), "mm");
/// assert_eq!(e.to_string(), "mm: cannot multiply [2, 3] by [4, 5]: inner dimensions 3 and 4 differ");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    op: &'static str,
    message: String,
}

/// `std::result::Result` with the crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Builds an error of `kind` raised by `op`.
    ///
    /// ```
    /// use tapegrad::{Error, ErrorKind};
    /// let e = Error::new(ErrorKind::Value, "my_layer", "p must be in [0, 1)");
    /// assert_eq!(e.to_string(), "my_layer: p must be in [0, 1)");
    /// ```
    pub fn new(kind: ErrorKind, op: &'static str, message: impl Into<String>) -> Self {
        Error {
            kind,
            op,
            message: message.into(),
        }
    }

    pub(crate) fn shape(op: &'static str, message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Shape, op, message)
    }

    pub(crate) fn index(op: &'static str, message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Index, op, message)
    }

    pub(crate) fn autograd(op: &'static str, message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Autograd, op, message)
    }

    /// The kind of failure.
    ///
    /// ```
    /// use tapegrad::{ErrorKind, Tensor};
    /// let e = Tensor::<f32>::zeros(&[2]).try_reshape(&[3]).unwrap_err();
    /// assert_eq!(e.kind(), ErrorKind::Shape);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The name of the op that failed, e.g. `"mm"`.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert_eq!(Tensor::<f32>::zeros(&[2]).try_item().unwrap_err().op(), "item");
    /// ```
    pub fn op(&self) -> &'static str {
        self.op
    }

    /// The message after the op name.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let e = Tensor::<f32>::zeros(&[2]).try_reshape(&[3]).unwrap_err();
    /// assert_eq!(e.message(), "cannot reshape [2] (2 elements) to [3] (3 elements)");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.op, self.message)
    }
}

impl std::error::Error for Error {}

/// Unwraps a `try_` result the way every plain op does: panic with the error's text.
#[track_caller]
pub(crate) fn or_panic<V>(result: Result<V>) -> V {
    match result {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}
