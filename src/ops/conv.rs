//! Convolution and pooling over `[N, C, H, W]`: `conv2d` and its two gradients, which are
//! each other's adjoints (so every derivative, to any order, is one of the three), and
//! max/avg pooling with theirs. Kernels: `array/conv.rs`.

use super::grad::{sum_to, view};
use super::{OpDef, Rule, Saves, Value, View, Written};
use crate::array::conv::{self, ConvSizes, Window};
use crate::array::pooling::{self, PoolSizes};
use crate::array::Array;
use crate::element::{Element, Float};
use crate::error::{Error, Result};
use crate::shape::{check_numel, shape_of, Shape};

/// A convolution's settings besides the kernel (which the weight's shape gives).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ConvParams {
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
    pub groups: usize,
}

impl ConvParams {
    fn window(&self, kernel: [usize; 2]) -> Window {
        Window {
            kernel,
            stride: self.stride,
            padding: self.padding,
            dilation: self.dilation,
        }
    }

    /// Checks `x` `[N, C, H, W]` against `w` `[O, C/groups, kh, kw]` and returns the sizes
    /// and window, or an error naming `conv2d` and both shapes.
    fn check(&self, x: &[usize], w: &[usize]) -> Result<(ConvSizes, Window)> {
        let op = "conv2d";
        let (&[n, c, h, wd], &[o, cg, kh, kw]) = (x, w) else {
            return Err(Error::shape(
                op,
                format!(
                    "expected a 4-D input [N, C, H, W] and a 4-D weight [O, C/groups, kh, kw], \
                     got {x:?} and {w:?}"
                ),
            ));
        };
        let g = self.groups;
        if g == 0 || self.stride.contains(&0) || self.dilation.contains(&0) {
            return Err(Error::shape(
                op,
                format!(
                    "groups, stride and dilation must be positive, got groups {g}, stride {:?}, \
                     dilation {:?}",
                    self.stride, self.dilation
                ),
            ));
        }
        if cg * g != c {
            return Err(Error::shape(
                op,
                format!(
                    "input {x:?} has {c} channels, but weight {w:?} with groups={g} expects \
                     {} (weight.shape[1] · groups)",
                    cg * g
                ),
            ));
        }
        if o % g != 0 || kh == 0 || kw == 0 {
            return Err(Error::shape(
                op,
                format!(
                    "weight {w:?} needs a kernel of positive size and out channels divisible by \
                     groups={g}"
                ),
            ));
        }
        let window = self.window([kh, kw]);
        let (Some(oh), Some(ow)) = (window.out_size(0, h), window.out_size(1, wd)) else {
            return Err(Error::shape(
                op,
                format!(
                    "input {x:?} with padding {:?} is smaller than the kernel {:?} (dilation \
                     {:?}) of weight {w:?}",
                    self.padding,
                    [kh, kw],
                    self.dilation
                ),
            ));
        };
        check_numel(op, &[n, o, oh, ow])?;
        Ok((
            ConvSizes {
                n,
                c,
                h,
                w: wd,
                o,
                oh,
                ow,
                groups: g,
            },
            window,
        ))
    }
}

fn four(shape: &[usize]) -> [usize; 4] {
    [shape[0], shape[1], shape[2], shape[3]]
}

/// `conv2d(x, w) (+ b)`: inputs `x` `[N, C, H, W]`, `w` `[O, C/groups, kh, kw]`, and `b`
/// `[O]` if `bias`. Output `[N, O, OH, OW]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Conv2d {
    pub params: ConvParams,
    pub bias: bool,
}

impl<T: Element> OpDef<T> for Conv2d {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "conv2d"
    }
    fn saves(&self) -> Saves {
        Saves::INPUTS
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        let (s, _) = self.params.check(shapes[0], shapes[1])?;
        if self.bias && shapes[2] != [s.o] {
            return Err(Error::shape(
                "conv2d",
                format!(
                    "bias must have shape [{}] to match weight {:?}, got {:?}",
                    s.o, shapes[1], shapes[2]
                ),
            ));
        }
        Ok(shape_of(&[s.n, s.o, s.oh, s.ow]))
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        let shapes: Vec<&[usize]> = x.iter().map(|a| a.shape()).collect();
        OpDef::<T>::output_shape(self, &shapes)?;
        let (s, win) = self.params.check(x[0].shape(), x[1].shape())?;
        Ok(conv::conv2d(x[0], x[1], self.bias.then(|| x[2]), &s, &win))
    }
    /// dx = conv2d's input gradient (a transposed convolution of `g` by `w`), dw = the
    /// weight gradient (`g` correlated with `x`), db = `g` summed over N, H and W.
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        let params = self.params;
        let written = rule.two(
            || {
                let input = four(rule.shape(0));
                V::apply(Conv2dInputGrad { params, input }, &[g, rule.x(1)])
            },
            || {
                let weight = four(rule.shape(1));
                V::apply(Conv2dWeightGrad { params, weight }, &[rule.x(0), g])
            },
        );
        if !self.bias {
            return written;
        }
        rule.write([rule.need(2).then(|| {
            let o = rule.shape(2)[0];
            let summed = sum_to(g, &shape_of(&[o, 1, 1]));
            view(&summed, View::Reshape(shape_of(&[o])))
        })])
    }
}

/// `conv2d`'s input gradient from (output gradient `g`, weight `w`), of shape `input`.
/// Linear in each input: its derivatives are `conv2d` and the weight gradient.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Conv2dInputGrad {
    pub params: ConvParams,
    pub input: [usize; 4],
}

impl Conv2dInputGrad {
    /// The sizes, after checking that `g` is what a conv of `input` by `w` gives.
    fn check(&self, g: &[usize], w: &[usize]) -> Result<(ConvSizes, Window)> {
        let (s, win) = self.params.check(&self.input, w)?;
        if g != [s.n, s.o, s.oh, s.ow] {
            return Err(Error::shape(
                "conv2d_backward",
                format!(
                    "gradient {g:?} does not fit input {:?} and weight {w:?}",
                    self.input
                ),
            ));
        }
        Ok((s, win))
    }
}

impl<T: Element> OpDef<T> for Conv2dInputGrad {
    fn name(&self) -> &'static str {
        "conv2d_input_backward"
    }
    fn saves(&self) -> Saves {
        Saves::INPUTS
    }
    fn resize(&self, size: &mut dyn FnMut(usize) -> Result<usize>) -> Result<Self> {
        let mut input = self.input;
        for d in &mut input {
            *d = size(*d)?;
        }
        Ok(Conv2dInputGrad {
            params: self.params,
            input,
        })
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        self.check(shapes[0], shapes[1])?;
        Ok(shape_of(&self.input))
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        let (s, win) = self.check(x[0].shape(), x[1].shape())?;
        Ok(conv::conv2d_input_grad(x[0], x[1], &s, &win))
    }
    /// Bilinear in (g, w): d/dg is `conv2d(gg, w)`, d/dw the weight gradient of `gg`
    /// against `g`.
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, gg: &V) -> Written
    where
        T: Float,
    {
        let params = self.params;
        rule.two(
            || {
                V::apply(
                    Conv2d {
                        params,
                        bias: false,
                    },
                    &[gg, rule.x(1)],
                )
            },
            || {
                let weight = four(rule.shape(1));
                V::apply(Conv2dWeightGrad { params, weight }, &[gg, rule.x(0)])
            },
        )
    }
}

/// `conv2d`'s weight gradient from (input `x`, output gradient `g`), of shape `weight`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Conv2dWeightGrad {
    pub params: ConvParams,
    pub weight: [usize; 4],
}

impl Conv2dWeightGrad {
    fn check(&self, x: &[usize], g: &[usize]) -> Result<(ConvSizes, Window)> {
        let (s, win) = self.params.check(x, &self.weight)?;
        if g != [s.n, s.o, s.oh, s.ow] {
            return Err(Error::shape(
                "conv2d_backward",
                format!(
                    "gradient {g:?} does not fit input {x:?} and weight {:?}",
                    self.weight
                ),
            ));
        }
        Ok((s, win))
    }
}

impl<T: Element> OpDef<T> for Conv2dWeightGrad {
    fn name(&self) -> &'static str {
        "conv2d_weight_backward"
    }
    fn saves(&self) -> Saves {
        Saves::INPUTS
    }
    fn resize(&self, size: &mut dyn FnMut(usize) -> Result<usize>) -> Result<Self> {
        let mut weight = self.weight;
        for d in &mut weight {
            *d = size(*d)?;
        }
        Ok(Conv2dWeightGrad {
            params: self.params,
            weight,
        })
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        self.check(shapes[0], shapes[1])?;
        Ok(shape_of(&self.weight))
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        let (s, win) = self.check(x[0].shape(), x[1].shape())?;
        Ok(conv::conv2d_weight_grad(x[0], x[1], &s, &win))
    }
    /// Bilinear in (x, g): d/dx is the input gradient of `g` by `gw`, d/dg is
    /// `conv2d(x, gw)`.
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, gw: &V) -> Written
    where
        T: Float,
    {
        let params = self.params;
        rule.two(
            || {
                let input = four(rule.shape(0));
                V::apply(Conv2dInputGrad { params, input }, &[rule.x(1), gw])
            },
            || {
                V::apply(
                    Conv2d {
                        params,
                        bias: false,
                    },
                    &[rule.x(0), gw],
                )
            },
        )
    }
}

/// Which pooling: the maximum of each window, or its mean (padding counted, as PyTorch's
/// default `count_include_pad=True`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum PoolKind {
    Max,
    Avg,
}

impl PoolKind {
    fn name(self) -> &'static str {
        match self {
            PoolKind::Max => "max_pool2d",
            PoolKind::Avg => "avg_pool2d",
        }
    }
}

/// Checks a pooling of an input `x` (`[N, C, H, W]` or `[C, H, W]`) and returns the
/// sizes and the output shape.
fn pool_sizes(kind: PoolKind, win: &Window, x: &[usize]) -> Result<(PoolSizes, Shape)> {
    let op = kind.name();
    if !(3..=4).contains(&x.len()) {
        return Err(Error::shape(
            op,
            format!("expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got {x:?}"),
        ));
    }
    if win.kernel.contains(&0) || win.stride.contains(&0) {
        return Err(Error::shape(
            op,
            format!(
                "kernel and stride must be positive, got kernel {:?} and stride {:?}",
                win.kernel, win.stride
            ),
        ));
    }
    if (0..2).any(|d| win.padding[d] > win.kernel[d] / 2) {
        return Err(Error::shape(
            op,
            format!(
                "padding {:?} must be at most half the kernel {:?}",
                win.padding, win.kernel
            ),
        ));
    }
    let (h, w) = (x[x.len() - 2], x[x.len() - 1]);
    let (Some(oh), Some(ow)) = (win.out_size(0, h), win.out_size(1, w)) else {
        return Err(Error::shape(
            op,
            format!(
                "input {x:?} with padding {:?} is smaller than the kernel {:?}",
                win.padding, win.kernel
            ),
        ));
    };
    let mut shape = shape_of(x);
    let nd = shape.len();
    shape[nd - 2] = oh;
    shape[nd - 1] = ow;
    let sizes = PoolSizes { h, w, oh, ow };
    Ok((sizes, shape))
}

/// `max_pool2d` / `avg_pool2d` over the last two dims.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pool2d {
    pub kind: PoolKind,
    pub window: Window,
}

impl<T: Element> OpDef<T> for Pool2d {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        self.kind.name()
    }
    fn saves(&self) -> Saves {
        match self.kind {
            PoolKind::Max => Saves::INPUTS,
            PoolKind::Avg => Saves::NOTHING,
        }
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        Ok(pool_sizes(self.kind, &self.window, shapes[0])?.1)
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        let (s, shape) = pool_sizes(self.kind, &self.window, x[0].shape())?;
        Ok(match self.kind {
            PoolKind::Max => pooling::max_pool2d(x[0], &s, &self.window, &shape),
            PoolKind::Avg => pooling::avg_pool2d(x[0], &s, &self.window, &shape),
        })
    }
    /// Max: `g` routed to each window's maximum. Avg: `g` spread evenly over the window.
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        let window = self.window;
        rule.one(|| match self.kind {
            PoolKind::Max => V::apply(MaxPool2dGrad { window }, &[rule.x(0), g]),
            PoolKind::Avg => V::apply(
                AvgPool2dGrad {
                    window,
                    input: shape_of(rule.shape(0)),
                },
                &[g],
            ),
        })
    }
}

/// `max_pool2d`'s input gradient from (input `x`, output gradient `g`): each gradient
/// added at its window's maximum. Linear in `g`, piecewise constant in `x`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MaxPool2dGrad {
    pub window: Window,
}

impl<T: Element> OpDef<T> for MaxPool2dGrad {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "max_pool2d_backward"
    }
    fn saves(&self) -> Saves {
        Saves::INPUTS
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        let (_, pooled) = pool_sizes(PoolKind::Max, &self.window, shapes[0])?;
        if shapes[1] != pooled.as_slice() {
            return Err(Error::shape(
                "max_pool2d_backward",
                format!(
                    "gradient {:?} does not fit input {:?}",
                    shapes[1], shapes[0]
                ),
            ));
        }
        Ok(shape_of(shapes[0]))
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        OpDef::<T>::output_shape(self, &[x[0].shape(), x[1].shape()])?;
        let (s, _) = pool_sizes(PoolKind::Max, &self.window, x[0].shape())?;
        Ok(pooling::max_pool2d_grad(x[0], x[1], &s, &self.window))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, gg: &V) -> Written
    where
        T: Float,
    {
        let window = self.window;
        rule.write([
            None,
            rule.need(1)
                .then(|| V::apply(MaxPool2dSelect { window }, &[rule.x(0), gg])),
        ])
    }
}

/// The adjoint of [`MaxPool2dGrad`] in its gradient: from (input `x`, `v` of `x`'s shape),
/// `v` read at each window's maximum of `x`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MaxPool2dSelect {
    pub window: Window,
}

impl<T: Element> OpDef<T> for MaxPool2dSelect {
    keeps_sizes!();
    fn name(&self) -> &'static str {
        "max_pool2d_select"
    }
    fn saves(&self) -> Saves {
        Saves::INPUTS
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        if shapes[0] != shapes[1] {
            return Err(Error::shape(
                "max_pool2d_select",
                format!("shapes {:?} and {:?} differ", shapes[0], shapes[1]),
            ));
        }
        Ok(pool_sizes(PoolKind::Max, &self.window, shapes[0])?.1)
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        let shape = OpDef::<T>::output_shape(self, &[x[0].shape(), x[1].shape()])?;
        let (s, _) = pool_sizes(PoolKind::Max, &self.window, x[0].shape())?;
        Ok(pooling::max_pool2d_select(
            x[0],
            x[1],
            &s,
            &self.window,
            &shape,
        ))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float,
    {
        let window = self.window;
        rule.write([
            None,
            rule.need(1)
                .then(|| V::apply(MaxPool2dGrad { window }, &[rule.x(0), g])),
        ])
    }
}

/// `avg_pool2d`'s input gradient from the output gradient `g`, of shape `input`. Linear:
/// its derivative is `avg_pool2d` itself.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AvgPool2dGrad {
    pub window: Window,
    pub input: Shape,
}

impl<T: Element> OpDef<T> for AvgPool2dGrad {
    fn name(&self) -> &'static str {
        "avg_pool2d_backward"
    }
    fn saves(&self) -> Saves {
        Saves::NOTHING
    }
    fn resize(&self, size: &mut dyn FnMut(usize) -> Result<usize>) -> Result<Self> {
        Ok(AvgPool2dGrad {
            window: self.window,
            input: super::resize_shape(&self.input, size)?,
        })
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
        let (_, pooled) = pool_sizes(PoolKind::Avg, &self.window, &self.input)?;
        if shapes[0] != pooled.as_slice() {
            return Err(Error::shape(
                "avg_pool2d_backward",
                format!(
                    "gradient {:?} does not fit input {:?}",
                    shapes[0], self.input
                ),
            ));
        }
        Ok(self.input.clone())
    }
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float,
    {
        OpDef::<T>::output_shape(self, &[x[0].shape()])?;
        let (s, _) = pool_sizes(PoolKind::Avg, &self.window, &self.input)?;
        Ok(pooling::avg_pool2d_grad(
            x[0],
            &s,
            &self.window,
            &self.input,
        ))
    }
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, gg: &V) -> Written
    where
        T: Float,
    {
        let window = self.window;
        rule.one(|| {
            V::apply(
                Pool2d {
                    kind: PoolKind::Avg,
                    window,
                },
                &[gg],
            )
        })
    }
}
