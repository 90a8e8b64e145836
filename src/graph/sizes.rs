//! Sizes known only at run time: a placeholder's `-1` (TF1's `None`) and the length of a
//! `masked_select`.
//!
//! Shapes and op parameters stay plain `usize` while a graph is built, so every method and
//! chain rule written for eager tensors builds graph nodes unchanged. A size that is not
//! known yet is written as a number no real tensor reaches, and the arithmetic the methods
//! do on it (a flatten multiplies, a `cat` adds, a `narrow` to the last row subtracts) is
//! kept by the number itself:
//!
//! - the unknown size `N` is [`UNIT`] (2³⁶), and a size `a·N + b` (with `|b| < 2³⁵`) is
//!   the number `a·UNIT + b`;
//! - the length of the node with id `k` whose length depends on its data is
//!   [`DYNAMIC`] `+ k`; it passes through ops unchanged or not at all.
//!
//! Real sizes are below 2³⁵, and a graph refuses larger ones. At each run the session
//! learns `N` from the feeds, replaces every size of the nodes it evaluates by its value
//! ([`resolve`]), and checks each result's shape against the one the graph was built with.

use crate::error::{Error, Result};

/// The unknown size `N` as it appears in shapes while the graph is built.
pub(crate) const UNIT: usize = 1 << 36;
/// Sizes from here on stand for a data-dependent length ([`DYNAMIC`] + node id).
pub(crate) const DYNAMIC: usize = 1 << 58;
/// What a new `masked_select` node is built with, before the graph gives it its own id.
pub(crate) const NEW_LENGTH: usize = usize::MAX;
/// The largest real size a graph accepts; larger numbers stand for unknown sizes.
pub(crate) const MAX_KNOWN: usize = UNIT / 2 - 1;

/// What a size in a graph stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Size {
    Known(usize),
    /// `a·N + b`, with `a ≥ 1`.
    Affine {
        a: usize,
        b: i64,
    },
    /// The run-time length of node `id`.
    Dynamic(usize),
}

/// Reads a size, or fails (naming `op`) for a number that is neither a real size nor an
/// expression in `N`: an op that divided the unknown size, or multiplied two of them.
pub(crate) fn decode(op: &'static str, d: usize) -> Result<Size> {
    if d <= MAX_KNOWN {
        return Ok(Size::Known(d));
    }
    if d >= DYNAMIC {
        if d < DYNAMIC + UNIT {
            return Ok(Size::Dynamic(d - DYNAMIC));
        }
        return Err(cannot_follow(op, d));
    }
    let a = (d + UNIT / 2) / UNIT;
    let b = d as i64 - (a * UNIT) as i64;
    if b.unsigned_abs() >= 1 << 32 {
        return Err(cannot_follow(op, d)); // N/2, say
    }
    Ok(Size::Affine { a, b })
}

fn cannot_follow(op: &'static str, d: usize) -> Error {
    Error::shape(
        op,
        format!(
            "a size of {} cannot be worked out when the graph is built: this op cannot \
             follow a size known only at run time (a placeholder's -1 or a masked_select's \
             length) through this arithmetic",
            d
        ),
    )
}

/// Whether `d` stands for a size known only at run time.
pub(crate) fn is_unknown(d: usize) -> bool {
    d > MAX_KNOWN
}

/// The value of size `d` in a run where the unknown size is `n` and `dynamic(k)` gives the
/// length of node `k` (if it has been evaluated).
pub(crate) fn resolve(
    op: &'static str,
    d: usize,
    n: Option<usize>,
    dynamic: &dyn Fn(usize) -> Option<usize>,
) -> Result<usize> {
    match decode(op, d)? {
        Size::Known(d) => Ok(d),
        Size::Affine { a, b } => {
            let n = n.ok_or_else(|| {
                Error::new(
                    crate::ErrorKind::Graph,
                    "run",
                    "the unknown size (-1) is not given by any feed",
                )
            })?;
            let value = (a as i128) * (n as i128) + b as i128;
            usize::try_from(value).map_err(|_| {
                Error::shape(op, format!("size {} is {value} for N = {n}", display(d)))
            })
        }
        Size::Dynamic(k) => dynamic(k).ok_or_else(|| {
            Error::new(
                crate::ErrorKind::Graph,
                op,
                format!("the length of node {k} is not known yet"),
            )
        }),
    }
}

/// A size as a reader wants it: `64`, `N`, `4N`, `N-1`, `len(node 7)`.
pub(crate) fn display(d: usize) -> String {
    match decode("", d) {
        Ok(Size::Known(d)) => d.to_string(),
        Ok(Size::Affine { a, b }) => {
            let scaled = if a == 1 {
                "N".to_string()
            } else {
                format!("{a}N")
            };
            match b {
                0 => scaled,
                b if b > 0 => format!("{scaled}+{b}"),
                b => format!("{scaled}{b}"),
            }
        }
        Ok(Size::Dynamic(k)) => format!("len(node {k})"),
        Err(_) => d.to_string(),
    }
}

/// A shape as a reader wants it: `[N, 4]`.
pub(crate) fn display_shape(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(|&d| display(d)).collect();
    format!("[{}]", dims.join(", "))
}

/// `message` with each number that stands for an unknown size written as one
/// (`[68719476736, 4]` becomes `[N, 4]`), so errors raised while building a graph read well.
pub(crate) fn humanize(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        match digits.parse::<usize>() {
            Ok(d) if is_unknown(d) => out.push_str(&display(d)),
            _ => out.push_str(digits),
        }
        digits.clear();
    };
    for c in message.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_decode_and_display() {
        assert_eq!(decode("t", 7).unwrap(), Size::Known(7));
        assert_eq!(decode("t", 4 * UNIT).unwrap(), Size::Affine { a: 4, b: 0 });
        assert_eq!(decode("t", UNIT - 1).unwrap(), Size::Affine { a: 1, b: -1 });
        assert_eq!(decode("t", DYNAMIC + 3).unwrap(), Size::Dynamic(3));
        assert!(decode("t", DYNAMIC + UNIT).is_err());
        assert_eq!(display(2 * UNIT + 3), "2N+3");
        assert_eq!(display(UNIT - 1), "N-1");
        assert_eq!(humanize("shape [68719476736, 4]"), "shape [N, 4]");
        let none = |_| None;
        assert_eq!(resolve("t", 3 * UNIT - 2, Some(5), &none).unwrap(), 13);
        assert!(resolve("t", UNIT - 2, Some(1), &none).is_err());
        assert!(resolve("t", UNIT, None, &none).is_err());
    }
}
