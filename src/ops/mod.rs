//! The vocabulary of ops. Each op is defined once, in one place: a struct (or a family
//! enum) implementing [`OpDef`], which holds its name, its shape rule, its forward kernel
//! call, what it saves for backward, and its chain rule. `OpDef` has no provided methods,
//! so an op that is half-added does not compile: the compiler lists what is missing.
//!
//! [`op_list!`] below turns the list of op types into the [`Op`] enum that tape nodes and
//! static-graph nodes store, with one `match` per `OpDef` method and no catch-all arm.
//! Eager tensors and the static graph run the same forward (`Op::eval`) and the same chain
//! rules (`Op::input_grads`, written over [`Value`], which arrays and graph nodes both
//! implement), so the two can never drift apart.
//!
//! Files:
//! - `arith.rs`: `+ - * /` with broadcasting, their scalar forms, negation;
//! - `unary.rs`: elementwise math (`pow`, `exp`, `relu`, `clamp`, ...);
//! - `reduce.rs`: `sum`, `mean`, along dims, `max_dim`, sum-to-shape;
//! - `matmul.rs`: the batched matrix product;
//! - `conv.rs`: `conv2d` and pooling, with their gradients;
//! - `view.rs`: views that copy nothing (transpose, reshape, narrow, ...);
//! - `select.rs`: comparisons, `where`, `maximum`, `max()`, and the mask/index operand `Aux`;
//! - `index.rs`: `index_select`, `gather`, `scatter_add`, `sort`'s permutation;
//! - `join.rs`: `cat`, `flip`, `pad`, `tril`/`triu`;
//! - `helpers.rs`: value-only ops that gradient rules use (masks, signs);
//! - `fused.rs`: the layer above the primitives: `Linear` and `MseLoss` as single ops;
//! - `compose.rs`: ops built from other ops (`mm`, `matmul`'s vector forms, `unsqueeze`);
//! - `methods.rs`: the math methods of `Tensor` and `graph::Node`, from one definition.
//!
//! `CONTRIBUTING.md` has the checklist for adding an op.

/// `OpDef::resize` for an op that holds no size (only dims, flags and scalars).
macro_rules! keeps_sizes {
    () => {
        fn resize(
            &self,
            _: &mut dyn FnMut(usize) -> $crate::error::Result<usize>,
        ) -> $crate::error::Result<Self> {
            Ok(self.clone())
        }
    };
}

mod arith;
pub(crate) mod compose;
mod conv;
mod fused;
mod helpers;
mod index;
mod join;
mod matmul;
pub(crate) mod methods;
pub(crate) mod methods_index;
pub(crate) mod methods_math;
mod reduce;
pub(crate) mod select;
mod unary;
mod view;

pub(crate) use arith::{
    Add, AddScalar, Div, DivScalar, Mul, MulScalar, MulScaled, Neg, ScalarDiv, ScalarSub, Sub,
};
pub(crate) use conv::{
    AvgPool2dGrad, Conv2d, Conv2dInputGrad, Conv2dWeightGrad, ConvParams, MaxPool2dGrad,
    MaxPool2dSelect, Pool2d, PoolKind,
};
pub(crate) use fused::{CrossEntropy, CrossEntropyGrad, Linear, MseLoss, MseLossGrad};
pub(crate) use helpers::{MaxMask, Sign, WherePositive};
pub(crate) use index::{
    Argsort, Gather, IndexAdd, IndexSelect, MaskedScatter, MaskedSelect, Scatter,
};
pub(crate) use join::{Cat, Flip, Pad, Triangle};
pub(crate) use matmul::MatMul;
pub(crate) use reduce::{
    Cumprod, CumprodGrad, Cumsum, DivCount, LogSumExp, MaxDim, Mean, MeanDim, ProdDim, ProdOthers,
    Sum, SumDim, SumTo,
};
pub(crate) use select::{
    Aux, Cmp, EvenShare, FullLike, MaskGrad, MaxAll, MaxShare, Maximum, Predicate, Where,
};
pub(crate) use unary::{
    Abs, Ceil, Clamp, ClampGrad, Cos, Erf, Exp, Exp2, Expm1, Floor, Gelu, GeluGrad, Log, Log10,
    Log1p, Log2, Pow, PowTensor, Relu, Round, Sigmoid, Sin, Softplus, Sqrt, SqrtOrZero, Tan, Tanh,
    Trunc,
};
pub(crate) use view::{NarrowGrad, View};

use crate::array::Array;
use crate::element::{Element, Float};
use crate::error::Result;
use crate::shape::Shape;
use smallvec::SmallVec;
use std::cell::RefCell;
use std::mem::MaybeUninit;

/// The array `write` writes, returned: [`OpDef::forward`] of an op whose
/// [`OpDef::forward_into`] is its kernel.
///
/// # Safety
/// `write` writes an array to its argument whenever it returns `Ok` (as
/// [`OpDef::forward_into`] and [`Op::eval_into`] promise).
#[inline]
pub(crate) unsafe fn returned<T: Element>(
    write: impl FnOnce(&mut MaybeUninit<Array<T>>) -> Result<()>,
) -> Result<Array<T>> {
    let mut out = MaybeUninit::uninit();
    write(&mut out)?;
    // SAFETY: `write` returned `Ok`, so it wrote the array (the caller's promise).
    Ok(unsafe { out.assume_init() })
}

/// Which values backward needs besides shapes (which nodes always keep).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Saves {
    pub inputs: bool,
    pub output: bool,
}

impl Saves {
    pub const NOTHING: Saves = Saves {
        inputs: false,
        output: false,
    };
    pub const INPUTS: Saves = Saves {
        inputs: true,
        output: false,
    };
    pub const OUTPUT: Saves = Saves {
        inputs: false,
        output: true,
    };
    pub const BOTH: Saves = Saves {
        inputs: true,
        output: true,
    };
}

/// Everything about one op (or one family of ops). No method is provided: adding an op
/// means writing all six, and the compiler says which are missing.
pub(crate) trait OpDef<T: Element> {
    /// The name users call it by: used in errors, `grad_fn` names and DOT pictures.
    fn name(&self) -> &'static str;
    /// What the chain rule reads besides shapes. The rule may call `Rule::x` only if
    /// `inputs` is set and `Rule::y` only if `output` is.
    fn saves(&self) -> Saves;
    /// This op with every size it holds (a shape, a length, a start, a count; not a dim
    /// number) passed through `size`: how a static graph built with unknown sizes
    /// (`graph::sizes`) gets the op for the sizes of one run. An op holding no size
    /// says `keeps_sizes!();`.
    fn resize(&self, size: &mut dyn FnMut(usize) -> Result<usize>) -> Result<Self>
    where
        Self: Sized;
    /// The output shape for inputs of these shapes, or the error `forward` would give.
    /// The static graph calls it as nodes are added, so shape errors surface early.
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape>;
    /// Computes the op on arrays.
    fn forward(&self, x: &[&Array<T>]) -> Result<Array<T>>
    where
        T: Float;
    /// [`OpDef::forward`] with the result written to `out` (left as it was on an error);
    /// `Ok` means it was written.
    /// The small ops of a training step write theirs in place (`array::map_into`,
    /// `array::zip_map_into`): their result returned and then moved was read back while
    /// its stores were still in flight (see `Array::place`).
    #[inline]
    fn forward_into(&self, x: &[&Array<T>], out: &mut MaybeUninit<Array<T>>) -> Result<()>
    where
        T: Float,
    {
        out.write(self.forward(x)?);
        Ok(())
    }
    /// The gradient of each input that needs one, given the output's gradient `g`, written
    /// through `rule` ([`Rule::one`], [`Rule::two`], [`Rule::write`]).
    fn backward<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written
    where
        T: Float;
}

/// A value ops apply to: eager tensors and arrays, static-graph nodes. The composed ops
/// (`compose.rs`), the math methods (`methods.rs`) and every chain rule are written over it.
pub(crate) trait Value<T: Element>: Clone + Sized {
    fn dims(&self) -> &[usize];
    /// Applies a view (any element type).
    fn try_view_op(&self, view: View) -> Result<Self>;
    /// Applies `op`, failing with its error.
    fn try_apply(op: Op<T>, inputs: &[&Self]) -> Result<Self>
    where
        T: Float;
    /// Applies `op` inside a chain rule, whose ops always fit: an error is a tapegrad bug.
    fn apply(op: impl Into<Op<T>>, inputs: &[&Self]) -> Self
    where
        T: Float,
    {
        match Self::try_apply(op.into(), inputs) {
            Ok(value) => value,
            Err(e) => panic!("a gradient rule built an inconsistent op (a tapegrad bug): {e}"),
        }
    }
    /// `a @ b` inside a chain rule, with the last two dims of `a` swapped first if
    /// `swap_a` and of `b` if `swap_b` (the matmul rule's `g @ bᵀ` and `aᵀ @ g`). Arrays
    /// read the swap through their strides and make no view (`array::matmul_swapped`);
    /// other values apply the views, then the op.
    fn matmul_swapped((a, swap_a): (&Self, bool), (b, swap_b): (&Self, bool)) -> Self
    where
        T: Float,
    {
        let view = |v: &Self, swap: bool| swap.then(|| grad::matrix_transpose(v));
        let (va, vb) = (view(a, swap_a), view(b, swap_b));
        Self::apply(
            matmul::MatMul,
            &[va.as_ref().unwrap_or(a), vb.as_ref().unwrap_or(b)],
        )
    }
    /// `op`'s chain rule on values of this type, through [`Kernels`].
    fn op_grads(op: &Op<T>, rule: &Rule<'_, Self>, g: &Self) -> Written
    where
        T: Float;
    /// True for values that record what is applied to them (tensors in a `create_graph`
    /// backward, graph nodes): a chain rule applied to them is differentiated in turn, so
    /// it must use ops that have derivatives of their own.
    fn records() -> bool {
        false
    }
    /// True for a 2-D value stored column-major (a transposed view, like `w.t()` in
    /// `x.matmul(&w.t())`): its gradient is best made in the same layout, so it lands in
    /// the parameter's own row-major order without a transposing copy.
    fn is_column_major(&self) -> bool {
        false
    }
}

/// What a chain rule may read: the saved values (see [`Saves`]), the input shapes, and
/// which inputs need a gradient; and where it writes the gradients it makes.
pub(crate) struct Rule<'a, V> {
    /// The saved inputs: all of them, or none if the op saves none.
    pub inputs: &'a [V],
    pub output: Option<&'a V>,
    pub shapes: &'a [Shape],
    pub needs: &'a [bool],
    /// Empty when the rule starts; one entry per input when it is done. The caller's own
    /// vector: returned by value, its 296 bytes were copied (through `memcpy`) on the way
    /// out of every rule and again into the backward walk.
    pub grads: &'a RefCell<InputGrads<V>>,
}

pub(crate) type InputGrads<V> = SmallVec<[Option<V>; 3]>;

/// What a chain rule returns once it has written its gradients. Only [`Rule`]'s writing
/// methods make one, so a rule that does not write them does not compile.
pub(crate) struct Written(());

impl<V> Rule<'_, V> {
    /// Saved input `i`.
    pub(crate) fn x(&self, i: usize) -> &V {
        self.inputs
            .get(i)
            .expect("backward: the op's `saves` does not save its inputs")
    }

    /// The saved output.
    pub(crate) fn y(&self) -> &V {
        self.output
            .expect("backward: the op's `saves` does not save its output")
    }

    /// The shape of input `i`.
    pub(crate) fn shape(&self, i: usize) -> &Shape {
        &self.shapes[i]
    }

    /// Whether input `i` needs a gradient.
    pub(crate) fn need(&self, i: usize) -> bool {
        self.needs.get(i).copied().unwrap_or(false)
    }

    /// The gradients of a one-input op: `grad()` if the input needs one.
    pub(crate) fn one(&self, grad: impl FnOnce() -> V) -> Written {
        let grad = self.need(0).then(grad);
        self.grads.borrow_mut().push(grad);
        Written(())
    }

    /// The gradients of a two-input op.
    pub(crate) fn two(&self, first: impl FnOnce() -> V, second: impl FnOnce() -> V) -> Written {
        let (first, second) = (self.need(0).then(first), self.need(1).then(second));
        let mut grads = self.grads.borrow_mut();
        grads.push(first);
        grads.push(second);
        Written(())
    }

    /// The gradients of the next inputs, in order (after any written before), `None`
    /// where none is needed (or the input has none, as an index).
    pub(crate) fn write(&self, grads: impl IntoIterator<Item = Option<V>>) -> Written {
        self.grads.borrow_mut().extend(grads);
        Written(())
    }
}

/// Small helpers the chain rules are written with, so each reads like its formula.
pub(crate) mod grad {
    use super::{Mul, MulScalar, Neg, Op, SumTo, Value, View};
    use crate::element::Float;
    use crate::shape::{shape_of, Shape};

    pub(crate) fn mul<T: Float, V: Value<T>>(a: &V, b: &V) -> V {
        V::apply(Mul, &[a, b])
    }

    pub(crate) fn div<T: Float, V: Value<T>>(a: &V, b: &V) -> V {
        V::apply(super::Div, &[a, b])
    }

    pub(crate) fn scale<T: Float, V: Value<T>>(a: &V, c: T) -> V {
        V::apply(MulScalar(c), &[a])
    }

    pub(crate) fn neg<T: Float, V: Value<T>>(a: &V) -> V {
        V::apply(Neg, &[a])
    }

    pub(crate) fn apply1<T: Float, V: Value<T>>(op: impl Into<Op<T>>, a: &V) -> V {
        V::apply(op, &[a])
    }

    /// A view of `a` inside a chain rule, whose views always fit (an error is a tapegrad
    /// bug). Straight to [`Value::try_view_op`]: on arrays a new layout over the same
    /// buffer, with no `Op` built and dispatched.
    pub(crate) fn view<T: Float, V: Value<T>>(a: &V, view: View) -> V {
        let name = <View as super::OpDef<T>>::name(&view);
        match crate::array::catching_alloc_failure(|| name, || a.try_view_op(view)) {
            Ok(value) => value,
            Err(e) => panic!("a gradient rule built an inconsistent view (a tapegrad bug): {e}"),
        }
    }

    /// `a` broadcast to `to` (itself if it has that shape).
    pub(crate) fn expand<T: Float, V: Value<T>>(a: &V, to: &[usize]) -> V {
        if crate::shape::same(a.dims(), to) {
            a.clone()
        } else {
            view(a, View::Expand(shape_of(to)))
        }
    }

    /// `a` summed down to `to`, undoing a broadcast (a clone of `a` if it has that shape).
    pub(crate) fn sum_to<T: Float, V: Value<T>>(a: &V, to: &Shape) -> V {
        if crate::shape::same(a.dims(), to) {
            a.clone()
        } else {
            V::apply(SumTo(to.clone()), &[a])
        }
    }

    /// [`sum_to`] of a gradient the rule has just made: of the input's shape, it is
    /// returned as it is, not cloned and dropped.
    pub(crate) fn sum_to_owned<T: Float, V: Value<T>>(a: V, to: &Shape) -> V {
        if crate::shape::same(a.dims(), to) {
            a
        } else {
            sum_to(&a, to)
        }
    }

    /// A reduced gradient with its dim put back as size 1 (so it broadcasts against the
    /// input of shape `input`).
    pub(crate) fn unsqueeze_reduced<T: Float, V: Value<T>>(
        g: &V,
        input: &Shape,
        dim: usize,
        keepdim: bool,
    ) -> V {
        if keepdim {
            g.clone()
        } else {
            let mut s = input.clone();
            s[dim] = 1;
            view(g, View::Reshape(s))
        }
    }

    /// Swaps the last two dims (the matrix dims of a batched operand).
    pub(crate) fn matrix_transpose<T: Float, V: Value<T>>(a: &V) -> V {
        let nd = a.dims().len();
        view(a, View::Transpose(nd - 2, nd - 1))
    }

    /// `n` as `T`.
    pub(crate) fn count<T: Float>(n: usize) -> T {
        T::from(n).unwrap_or_else(T::nan)
    }
}

impl<T> Op<T> {
    /// True for the value-only helpers whose own derivative is not written: chain rules
    /// use them (`cumprod`'s; `prod`'s only on arrays, see `ProdDim`), so they are met
    /// only when differentiating a second time, where they are an error, not a silent zero.
    pub(crate) fn lacks_derivative(&self) -> bool {
        matches!(self, Op::ProdOthers(_) | Op::CumprodGrad(_))
    }
}

/// The op table's two entry points, forward and chain rule, compiled once, here, for f32
/// and f64 (a supertrait of [`Float`], so every float type has them).
///
/// rustc compiles a generic function again in each crate that calls it (a release build
/// shares no generic code between crates), and [`Op::eval`] reaches the kernel of every
/// op. Called generically, each user crate, example and test binary compiled all of them
/// again, twice: measured on `examples/lecture.rs`, that was most of its 46 s of build.
/// Through these methods, concrete for each float type, a user crate calls code tapegrad
/// has compiled; thin LTO can still inline across the boundary.
#[doc(hidden)]
#[allow(private_interfaces)]
pub trait Kernels: Element {
    /// [`Op::eval_into`].
    fn eval_op(op: &Op<Self>, x: &[&Array<Self>], out: &mut MaybeUninit<Array<Self>>)
        -> Result<()>;
    /// [`Op::input_grads`] on arrays (a plain backward).
    fn array_grads(op: &Op<Self>, rule: &Rule<'_, Array<Self>>, g: &Array<Self>) -> Written;
    /// [`Op::input_grads`] on tensors (a `create_graph` backward).
    fn tensor_grads(
        op: &Op<Self>,
        rule: &Rule<'_, crate::Tensor<Self>>,
        g: &crate::Tensor<Self>,
    ) -> Written;
    /// [`Op::input_grads`] on static-graph nodes (`graph::Node::gradients`).
    fn node_grads(
        op: &Op<Self>,
        rule: &Rule<'_, crate::graph::Node<Self>>,
        g: &crate::graph::Node<Self>,
    ) -> Written
    where
        Self: Float;
}

macro_rules! kernels {
    ($($t:ty),*) => {$(
        #[allow(private_interfaces)]
        impl Kernels for $t {
            #[inline(never)]
            fn eval_op(
                op: &Op<$t>,
                x: &[&Array<$t>],
                out: &mut MaybeUninit<Array<$t>>,
            ) -> Result<()> {
                op.eval_here(x, out)
            }
            #[inline(never)]
            fn array_grads(
                op: &Op<$t>,
                rule: &Rule<'_, Array<$t>>,
                g: &Array<$t>,
            ) -> Written {
                op.input_grads_here(rule, g)
            }
            #[inline(never)]
            fn tensor_grads(
                op: &Op<$t>,
                rule: &Rule<'_, crate::Tensor<$t>>,
                g: &crate::Tensor<$t>,
            ) -> Written {
                op.input_grads_here(rule, g)
            }
            #[inline(never)]
            fn node_grads(
                op: &Op<$t>,
                rule: &Rule<'_, crate::graph::Node<$t>>,
                g: &crate::graph::Node<$t>,
            ) -> Written {
                op.input_grads_here(rule, g)
            }
        }
    )*};
}
kernels!(f32, f64);

/// `shape` with each size passed through `size` (see [`OpDef::resize`]).
pub(crate) fn resize_shape(
    shape: &Shape,
    size: &mut dyn FnMut(usize) -> Result<usize>,
) -> Result<Shape> {
    shape.iter().map(|&d| size(d)).collect()
}

/// How an op's parameters are kept in an [`Op`]: as they are, or boxed (see [`op_list`]).
pub(crate) trait Stored<T> {
    type As;
}

/// Turns the list of op types into the [`Op`] enum and its dispatch: one `match` per
/// [`OpDef`] method, each with an arm per op and none for "everything else".
///
/// An entry marked `boxed` is kept behind a `Box`: an op with large parameters (shapes,
/// index arrays) would otherwise size every `Op`, and every op recorded on the tape moves
/// its `Op` twice (152 bytes through `memcpy`, where the largest unboxed one is 56).
macro_rules! op_list {
    (@store $ty:ty) => { $ty };
    (@store $ty:ty, boxed) => { Box<$ty> };
    (@wrap $op:ident) => { $op };
    (@wrap $op:ident, boxed) => { Box::new($op) };
    ($($(#[$doc:meta])* $variant:ident($ty:ty) $($boxed:ident)?,)*) => {
        /// One op application, as tape nodes and static-graph nodes store it.
        #[derive(Debug, Clone, PartialEq)]
        pub(crate) enum Op<T> {
            $($(#[$doc])* $variant(<$ty as Stored<T>>::As),)*
        }

        $(impl<T> Stored<T> for $ty {
            type As = op_list!(@store $ty $(, $boxed)?);
        })*

        $(impl<T> From<$ty> for Op<T> {
            fn from(op: $ty) -> Self {
                Op::$variant(op_list!(@wrap op $(, $boxed)?))
            }
        })*

        impl<T: Element> Op<T> {
            /// See [`OpDef::name`].
            pub(crate) fn name(&self) -> &'static str {
                match self {
                    $(Op::$variant(op) => { let op: &$ty = op; OpDef::<T>::name(op) })*
                }
            }

            /// See [`OpDef::saves`].
            pub(crate) fn saves(&self) -> Saves {
                match self {
                    $(Op::$variant(op) => { let op: &$ty = op; OpDef::<T>::saves(op) })*
                }
            }

            /// See [`OpDef::resize`].
            pub(crate) fn resize(&self, size: &mut dyn FnMut(usize) -> Result<usize>) -> Result<Op<T>> {
                Ok(match self {
                    $(Op::$variant(op) => { let op: &$ty = op; Op::from(OpDef::<T>::resize(op, size)?) })*
                })
            }

            /// See [`OpDef::output_shape`].
            pub(crate) fn output_shape(&self, shapes: &[&[usize]]) -> Result<Shape> {
                match self {
                    $(Op::$variant(op) => { let op: &$ty = op; OpDef::<T>::output_shape(op, shapes) })*
                }
            }
        }

        impl<T: Float> Op<T> {
            /// Computes the op on arrays: the one forward, for tensors and the graph.
            #[inline]
            pub(crate) fn eval(&self, x: &[&Array<T>]) -> Result<Array<T>> {
                // SAFETY: `eval_op` writes the result when it returns `Ok` (it passes on
                // `forward_into`'s `Ok`, which promises as much).
                unsafe { returned(|out| T::eval_op(self, x, out)) }
            }

            /// [`Op::eval`] with the result written to `out` (left as it was on an error).
            /// A new tensor's array goes straight into its handle so: a 96-byte array
            /// returned and then moved, frame by frame, was read back while its stores
            /// were still in flight, and each such stalled copy cost as much as the
            /// kernel of a small op (perf on the lecture's manual step).
            #[inline]
            pub(crate) fn eval_into(&self, x: &[&Array<T>], out: &mut MaybeUninit<Array<T>>) -> Result<()> {
                T::eval_op(self, x, out)
            }

            /// The chain rule: gradients of the inputs given the output's gradient `g`.
            #[inline]
            pub(crate) fn input_grads<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written {
                V::op_grads(self, rule, g)
            }

            /// [`Op::eval_into`]'s body, reached through [`Kernels`]. The result is written
            /// inside the closure, which returns no more than an error: an array passed
            /// out through `catch_unwind`'s result was copied twice more on the way.
            fn eval_here(&self, x: &[&Array<T>], out: &mut MaybeUninit<Array<T>>) -> Result<()> {
                // A result the allocator refuses is an error, not an abort (see `reserve`).
                crate::array::catching_alloc_failure(|| self.name(), || match self {
                    $(Op::$variant(op) => op.forward_into(x, out),)*
                })
            }

            /// [`Op::input_grads`]'s body, reached through [`Kernels`].
            fn input_grads_here<V: Value<T>>(&self, rule: &Rule<'_, V>, g: &V) -> Written {
                match self {
                    $(Op::$variant(op) => op.backward(rule, g),)*
                }
            }
        }
    };
}

op_list! {
    // Arithmetic (arith.rs).
    Add(Add),
    Sub(Sub),
    Mul(Mul),
    Div(Div),
    AddScalar(AddScalar<T>),
    MulScalar(MulScalar<T>),
    MulScaled(MulScaled<T>),
    DivScalar(DivScalar<T>),
    ScalarSub(ScalarSub<T>),
    ScalarDiv(ScalarDiv<T>),
    Neg(Neg),
    // Elementwise math (unary.rs).
    Pow(Pow<T>),
    Exp(Exp),
    Log(Log),
    Sqrt(Sqrt),
    Abs(Abs),
    Relu(Relu),
    Sigmoid(Sigmoid),
    Tanh(Tanh),
    Softplus(Softplus),
    Gelu(Gelu),
    GeluGrad(GeluGrad),
    Clamp(Clamp<T>),
    ClampGrad(ClampGrad<T>),
    Sin(Sin),
    Cos(Cos),
    Tan(Tan),
    Log1p(Log1p),
    Expm1(Expm1),
    Erf(Erf),
    Log2(Log2),
    Log10(Log10),
    Exp2(Exp2),
    PowTensor(PowTensor),
    Floor(Floor),
    Ceil(Ceil),
    Round(Round),
    Trunc(Trunc),
    SqrtOrZero(SqrtOrZero),
    // Reductions (reduce.rs).
    Sum(Sum),
    Mean(Mean),
    DivCount(DivCount),
    SumDim(SumDim),
    MeanDim(MeanDim),
    MaxDim(MaxDim),
    SumTo(SumTo),
    ProdDim(ProdDim),
    ProdOthers(ProdOthers),
    LogSumExp(LogSumExp),
    Cumsum(Cumsum),
    Cumprod(Cumprod),
    CumprodGrad(CumprodGrad),
    // Selection and indexing (select.rs).
    Predicate(Predicate<T>),
    Where(Where) boxed,
    MaskGrad(MaskGrad) boxed,
    FullLike(FullLike<T>),
    Maximum(Maximum),
    MaxShare(MaxShare),
    MaxAll(MaxAll),
    EvenShare(EvenShare),
    IndexSelect(IndexSelect) boxed,
    IndexAdd(IndexAdd) boxed,
    Gather(Gather) boxed,
    Scatter(Scatter) boxed,
    Argsort(Argsort),
    MaskedSelect(MaskedSelect),
    MaskedScatter(MaskedScatter),
    // Copies into a new arrangement (join.rs).
    Cat(Cat),
    Flip(Flip),
    Pad(Pad<T>) boxed,
    Triangle(Triangle),
    // Products (matmul.rs).
    MatMul(MatMul),
    // Convolution and pooling (conv.rs).
    Conv2d(Conv2d) boxed,
    Conv2dInputGrad(Conv2dInputGrad) boxed,
    Conv2dWeightGrad(Conv2dWeightGrad) boxed,
    Pool2d(Pool2d) boxed,
    MaxPool2dGrad(MaxPool2dGrad) boxed,
    MaxPool2dSelect(MaxPool2dSelect) boxed,
    AvgPool2dGrad(AvgPool2dGrad) boxed,
    // Views (view.rs).
    View(View),
    NarrowGrad(NarrowGrad),
    // Value-only helpers of the chain rules (helpers.rs).
    WherePositive(WherePositive),
    Sign(Sign),
    MaxMask(MaxMask),
    // Fused ops, above the primitives (fused.rs).
    Linear(Linear),
    MseLoss(MseLoss),
    MseLossGrad(MseLossGrad),
    CrossEntropy(CrossEntropy),
    CrossEntropyGrad(CrossEntropyGrad),
}
