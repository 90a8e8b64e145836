//! Printing like PyTorch: `tensor([[1.0000, 2.0000], ...], requires_grad=True)`,
//! `tensor([1, 2])`, `tensor([ True, False])`.

use super::Tensor;
use crate::element::{convert, DType, Element};
use std::fmt;

/// Tensors with more elements than this print the first and last 3 entries of each dim.
const SUMMARIZE_OVER: usize = 1000;
const EDGE_ITEMS: usize = 3;

/// How all numbers of one tensor are written, chosen once so the columns line up.
enum Style {
    /// All values are whole numbers: `1.`, `-3.`.
    Whole,
    /// Fixed point with 4 decimals.
    Fixed,
    /// Scientific with 4 decimals, when magnitudes span too much for fixed point.
    Scientific,
}

impl Style {
    fn choose(values: &[f64]) -> Style {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        if finite.iter().all(|v| v.fract() == 0.0 && v.abs() < 1e8) {
            return Style::Whole;
        }
        let nonzero = finite.iter().map(|v| v.abs()).filter(|&v| v > 0.0);
        let (min, max) = nonzero.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        if max >= 1e8 || min < 1e-4 || max / min > 1e3 {
            Style::Scientific
        } else {
            Style::Fixed
        }
    }

    fn format(&self, v: f64) -> String {
        if v.is_nan() {
            return "nan".into();
        }
        if v.is_infinite() {
            return if v > 0.0 { "inf".into() } else { "-inf".into() };
        }
        match self {
            Style::Whole => format!("{v:.0}."),
            Style::Fixed => format!("{v:.4}"),
            Style::Scientific => {
                // PyTorch writes the exponent with a sign and two digits: 1.0000e-05.
                let text = format!("{v:.4e}");
                let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
                let exponent: i32 = exponent.parse().unwrap_or(0);
                let sign = if exponent < 0 { '-' } else { '+' };
                format!("{mantissa}e{sign}{:02}", exponent.abs())
            }
        }
    }
}

struct Printer<'a> {
    /// Every value already written out, row-major.
    texts: &'a [String],
    shape: &'a [usize],
    summarize: bool,
    width: usize,
}

impl Printer<'_> {
    /// Indices of dim `d` that are shown (`None` marks the `...`).
    fn shown(&self, d: usize) -> Vec<Option<usize>> {
        let n = self.shape[d];
        if self.summarize && n > 2 * EDGE_ITEMS {
            (0..EDGE_ITEMS)
                .map(Some)
                .chain([None])
                .chain((n - EDGE_ITEMS..n).map(Some))
                .collect()
        } else {
            (0..n).map(Some).collect()
        }
    }

    fn write(&self, out: &mut String, d: usize, offset: usize, indent: usize) {
        let stride: usize = self.shape[d + 1..].iter().product();
        out.push('[');
        let shown = self.shown(d);
        for (k, index) in shown.iter().enumerate() {
            if k > 0 {
                if d + 1 == self.shape.len() {
                    out.push_str(", ");
                } else {
                    out.push(',');
                    out.push_str(&"\n".repeat(self.shape.len() - d - 1));
                    out.push_str(&" ".repeat(indent + 1));
                }
            }
            match index {
                None => out.push_str("..."),
                Some(i) if d + 1 == self.shape.len() => {
                    let text = &self.texts[offset + i];
                    out.push_str(&" ".repeat(self.width - text.len()));
                    out.push_str(text);
                }
                Some(i) => self.write(out, d + 1, offset + i * stride, indent + 1),
            }
        }
        out.push(']');
    }
}

/// Each value as PyTorch writes it: floats in one style chosen for all, integers as
/// they are, booleans as `True`/`False`.
fn texts<T: Element>(values: &[T]) -> Vec<String> {
    match T::DTYPE {
        DType::F32 | DType::F64 => {
            let floats: Vec<f64> = values.iter().map(|&v| convert(v)).collect();
            let style = Style::choose(&floats);
            floats.iter().map(|&v| style.format(v)).collect()
        }
        DType::I64 => values.iter().map(|v| v.to_string()).collect(),
        DType::Bool => values
            .iter()
            .map(|&v| if convert(v) { "True" } else { "False" }.to_string())
            .collect(),
    }
}

impl<T: Element> fmt::Display for Tensor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values = self.to_vec();
        let texts = texts(&values);
        let shape = self.shape();
        let summarize = values.len() > SUMMARIZE_OVER;
        let width = texts.iter().map(String::len).max().unwrap_or(0);
        let printer = Printer {
            texts: &texts,
            shape,
            summarize,
            width,
        };
        let mut body = String::new();
        if shape.is_empty() {
            body = texts[0].clone();
        } else if values.is_empty() && shape.len() == 1 {
            body.push_str("[]");
        } else {
            printer.write(&mut body, 0, 0, "tensor(".len());
        }
        write!(f, "tensor({body}")?;
        if values.is_empty() && shape.len() > 1 || summarize {
            write!(f, ", size={shape:?}")?;
        }
        // PyTorch names the dtype unless it is a default one (float32, int64, bool).
        if T::DTYPE == DType::F64 {
            write!(f, ", dtype=torch.float64")?;
        }
        if let Some(name) = self.grad_fn_name() {
            write!(f, ", grad_fn=<{name}>")?;
        } else if self.requires_grad() {
            write!(f, ", requires_grad=True")?;
        }
        write!(f, ")")
    }
}

impl<T: Element> fmt::Debug for Tensor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tensor(shape={:?}, {self})", self.shape())
    }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;

    #[test]
    fn prints_like_pytorch() {
        // >>> print(torch.tensor([[1., 2.], [3., 4.]]))
        let x: Tensor = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
        assert_eq!(x.to_string(), "tensor([[1., 2.],\n        [3., 4.]])");
        // >>> print(torch.tensor([0.5, -1.25], requires_grad=True))
        let y: Tensor = Tensor::from_vec(vec![0.5, -1.25], &[2]).requires_grad_(true);
        assert_eq!(
            y.to_string(),
            "tensor([ 0.5000, -1.2500], requires_grad=True)"
        );
        assert_eq!(Tensor::<f32>::scalar(2.5).to_string(), "tensor(2.5000)");
        // >>> print(torch.tensor([0.5, -1.25], requires_grad=True) * 2)
        let z = &y * 2.0;
        assert_eq!(
            z.to_string(),
            "tensor([ 1.0000, -2.5000], grad_fn=<MulBackward>)"
        );
        // >>> print(torch.tensor([[3, -12], [0, 7]]))
        let i = Tensor::<i64>::from_vec(vec![3, -12, 0, 7], &[2, 2]);
        assert_eq!(i.to_string(), "tensor([[  3, -12],\n        [  0,   7]])");
        // >>> print(torch.tensor([True, False]))
        let b = Tensor::<bool>::from_vec(vec![true, false], &[2]);
        assert_eq!(b.to_string(), "tensor([ True, False])");
        // >>> print(torch.tensor([1.5], dtype=torch.float64))
        let d = Tensor::<f64>::from_vec(vec![1.5], &[1]);
        assert_eq!(d.to_string(), "tensor([1.5000], dtype=torch.float64)");
    }

    #[test]
    fn large_tensors_are_elided() {
        let x: Tensor = Tensor::arange(0.0, 2000.0, 1.0).reshape(&[40, 50]);
        let text = x.to_string();
        let expected = "tensor([[   0.,    1.,    2., ...,   47.,   48.,   49.],\n        [  50.,   51.,   52., ...,   97.,   98.,   99.],";
        assert!(text.starts_with(expected), "{text}");
        assert!(
            text.contains("        ...,\n") && text.ends_with("1999.]], size=[40, 50])"),
            "{text}"
        );
    }
}
