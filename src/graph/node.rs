//! `Node`: a value of the static graph, with the same math methods and operators as
//! `Tensor`. Each method adds one node after checking shapes, so a shape error surfaces
//! while the graph is built, naming the op and the shapes.

use super::{sizes, Graph, GraphInner, Kind};
use crate::dim::Rhs;
use crate::dim::{resolve_dim, Dim};
use crate::element::Float;
use crate::error::{or_panic, Error, ErrorKind, Result};
use crate::operators::fallible;
use crate::ops::methods::{float_methods, view_methods};
use crate::ops::methods_index::{index_methods, index_view_methods};
use crate::ops::methods_math::math_methods;
use crate::ops::select::Operand;
use crate::ops::{Argsort, Aux, Cmp, FullLike, MaskedSelect, Predicate, Where};
use crate::ops::{MaxDim, MaxMask, Op, Value, View};
use crate::shape::Shape;
use smallvec::SmallVec;
use std::sync::Arc;

/// A value in a [`Graph`]: a placeholder, constant, variable, or an op on other nodes.
/// Cheap to clone.
///
/// ```
/// use tapegrad::graph::Graph;
/// let g = Graph::<f32>::new();
/// let x = g.placeholder("x", &[64, 4]);
/// let y = x.matmul(&g.placeholder("w", &[4, 2])).relu();
/// assert_eq!(y.shape(), &[64, 2]); // known while the graph is built
/// ```
pub struct Node<T: Float = f32> {
    pub(crate) graph: Arc<GraphInner<T>>,
    pub(crate) id: usize,
    pub(crate) shape: Shape,
}

impl<T: Float> Clone for Node<T> {
    fn clone(&self) -> Self {
        Node {
            graph: Arc::clone(&self.graph),
            id: self.id,
            shape: self.shape.clone(),
        }
    }
}

impl<T: Float> std::fmt::Debug for Node<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Node(graph {}, id {}, shape {})",
            self.graph.id,
            self.id,
            sizes::display_shape(&self.shape)
        )
    }
}

impl<T: Float> Value<T> for Node<T> {
    fn dims(&self) -> &[usize] {
        &self.shape
    }

    fn try_view_op(&self, view: View) -> Result<Self> {
        Node::apply(Op::View(view), &[self])
    }

    fn try_apply(op: Op<T>, inputs: &[&Self]) -> Result<Self> {
        Node::apply(op, inputs)
    }

    fn op_grads(op: &Op<T>, rule: &crate::ops::Rule<'_, Self>, g: &Self) -> crate::ops::Written {
        T::node_grads(op, rule, g)
    }

    fn records() -> bool {
        true
    }
}

impl<T: Float> Node<T> {
    /// Adds `op` applied to `inputs` to their graph, checking shapes now.
    pub(crate) fn apply(op: Op<T>, inputs: &[&Node<T>]) -> Result<Node<T>> {
        let graph = &inputs[0].graph;
        if let Some(other) = inputs.iter().find(|n| !Arc::ptr_eq(&n.graph, graph)) {
            return Err(Error::new(
                ErrorKind::Graph,
                op.name(),
                format!(
                    "operands belong to different graphs (graph {} and graph {})",
                    graph.id, other.graph.id
                ),
            ));
        }
        let shapes: SmallVec<[&[usize]; 2]> = inputs.iter().map(|n| n.shape.as_slice()).collect();
        let unknown = shapes
            .iter()
            .any(|s| s.iter().any(|&d| sizes::is_unknown(d)));
        let shape = op.output_shape(&shapes).map_err(|e| {
            if unknown {
                Error::new(e.kind(), e.op(), sizes::humanize(e.message()))
            } else {
                e
            }
        })?;
        // Every size the op holds and every dim it makes must be one a run can work out
        // (see `sizes`): a real size, a multiple of N plus a constant, or a data length.
        let name = op.name();
        op.resize(&mut |d| sizes::decode(name, d).map(|_| d))?;
        for &d in shape.iter().filter(|&&d| d != sizes::NEW_LENGTH) {
            sizes::decode(name, d)?;
        }
        let inputs = inputs.iter().map(|n| n.id).collect();
        if let Op::MaskedSelect(MaskedSelect {
            len: sizes::NEW_LENGTH,
        }) = op
        {
            // A new data-dependent length: written with the id of the node that has it.
            return Ok(Graph::add_with(graph, |id| {
                let len = sizes::DYNAMIC + id;
                let op = MaskedSelect { len }.into();
                (Kind::Apply { op, inputs }, smallvec::smallvec![len])
            }));
        }
        Ok(Graph::add(graph, Kind::Apply { op, inputs }, shape))
    }

    /// The elements where `mask` is nonzero (true), in row-major order, as a 1-D node
    /// (`torch.masked_select`, TF1's `boolean_mask` of the flattened values); `mask` and
    /// `self` broadcast. Its length is known only when the graph runs: shapes built from it
    /// are shown with `len(node k)`, and gradients build as usual. Panics on shapes that do
    /// not broadcast (see [`Node::try_masked_select`]).
    ///
    /// ```
    /// use tapegrad::graph::{Graph, Session};
    /// use tapegrad::Tensor;
    /// let g = Graph::<f64>::new();
    /// let x = g.placeholder("x", &[2, 2]);
    /// let picked = x.masked_select(&x.gt(1.5));
    /// assert_eq!(picked.static_shape(), vec![None]);
    /// let dx = g.gradients(&picked.mean(), &[&x]).remove(0);
    /// let xv = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
    /// let out = Session::new(&g).run(&[&picked, &dx], &[(&x, &xv)]).unwrap();
    /// assert_eq!(out[0].to_vec(), vec![2.0, 3.0, 4.0]);
    /// assert_eq!(out[1].to_vec(), vec![0.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0]);
    /// ```
    #[track_caller]
    pub fn masked_select(&self, mask: &Node<T>) -> Node<T> {
        or_panic(self.try_masked_select(mask))
    }

    /// [`Node::masked_select`] returning an error for shapes that do not broadcast.
    ///
    /// ```
    /// let g = tapegrad::graph::Graph::<f32>::new();
    /// let x = g.placeholder("x", &[2, 3]);
    /// assert!(x.try_masked_select(&g.placeholder("m", &[2])).is_err());
    /// ```
    pub fn try_masked_select(&self, mask: &Node<T>) -> Result<Node<T>> {
        let shape = crate::shape::broadcast_shapes("masked_select", &self.shape, &mask.shape)?;
        let values = self.try_broadcast_to(&shape)?;
        let mask = mask.try_broadcast_to(&shape)?;
        Node::apply(
            MaskedSelect {
                len: sizes::NEW_LENGTH,
            }
            .into(),
            &[&values, &mask],
        )
    }

    /// The shape with each dim that is known only at run time (it depends on a
    /// placeholder's `-1` or on a `masked_select`'s data) as `None`, like TF1's
    /// `get_shape()`.
    ///
    /// ```
    /// let g = tapegrad::graph::Graph::<f32>::new();
    /// let x = g.placeholder("x", &[-1, 2, 3]);
    /// assert_eq!(x.static_shape(), vec![None, Some(2), Some(3)]);
    /// assert_eq!(x.flatten(1, 2).static_shape(), vec![None, Some(6)]);
    /// assert_eq!(x.sum_dim(0, false).static_shape(), vec![Some(2), Some(3)]);
    /// ```
    pub fn static_shape(&self) -> Vec<Option<usize>> {
        self.shape
            .iter()
            .map(|&d| (!sizes::is_unknown(d)).then_some(d))
            .collect()
    }

    /// The shape, known when the node was built. A dim that is known only at run time
    /// (from a placeholder's `-1`) reads as a number of 2³⁵ or more that encodes it: use
    /// [`Node::static_shape`] to tell such dims apart.
    ///
    /// ```
    /// let g = tapegrad::graph::Graph::<f64>::new();
    /// assert_eq!(g.placeholder("x", &[3, 1]).sum_dim(-1, false).shape(), &[3]);
    /// ```
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The number of dims.
    ///
    /// ```
    /// let g = tapegrad::graph::Graph::<f32>::new();
    /// assert_eq!(g.placeholder("x", &[2, 3]).ndim(), 2);
    /// ```
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// A node that, when run, stores `value` into this variable and evaluates to it (like
    /// `tf.assign`). Panics if this is not a variable or the shapes differ.
    ///
    /// ```
    /// use tapegrad::graph::{Graph, Session};
    /// use tapegrad::Tensor;
    /// let g = Graph::<f32>::new();
    /// let w = g.variable("w", &Tensor::zeros(&[1]));
    /// let step = w.assign(&(&w + 1.0));
    /// Session::new(&g).run(&[&step], &[]).unwrap();
    /// assert_eq!(g.variable_value(&w).unwrap().item(), 1.0);
    /// ```
    #[track_caller]
    pub fn assign(&self, value: &Node<T>) -> Node<T> {
        or_panic(self.try_assign(value))
    }

    /// [`Node::assign`] returning an error instead of panicking.
    ///
    /// ```
    /// let g = tapegrad::graph::Graph::<f32>::new();
    /// let x = g.placeholder("x", &[1]);
    /// assert!(x.try_assign(&x).is_err()); // only a variable can be assigned to
    /// ```
    pub fn try_assign(&self, value: &Node<T>) -> Result<Node<T>> {
        if !Arc::ptr_eq(&self.graph, &value.graph) {
            return Err(Error::new(
                ErrorKind::Graph,
                "assign",
                "the value belongs to another graph",
            ));
        }
        let is_variable = {
            let nodes = self
                .graph
                .nodes
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            matches!(nodes[self.id].kind, Kind::Variable { .. })
        };
        if !is_variable {
            return Err(Error::new(
                ErrorKind::Graph,
                "assign",
                "only a variable can be assigned to",
            ));
        }
        if value.shape != self.shape {
            return Err(Error::shape(
                "assign",
                format!(
                    "cannot assign a value of shape {:?} to a variable of shape {:?}",
                    value.shape(),
                    self.shape()
                ),
            ));
        }
        Ok(Graph::add(
            &self.graph,
            Kind::Assign {
                variable: self.id,
                value: value.id,
            },
            self.shape.clone(),
        ))
    }

    fallible! { Node;
        /// Index of the max along `dim`, as `T` values (not differentiable). A graph's
        /// values share one element type, so unlike `Tensor::argmax_dim` (which gives
        /// `Tensor<i64>`) the indices are floats here.
        argmax_dim / try_argmax_dim (&self, dim: impl Dim, keepdim: bool) -> Node<T> {
            let dim = resolve_dim("argmax_dim", dim, &self.shape)?;
            // The same checks (an empty dim has no max) and error as max_dim.
            Op::<T>::from(MaxDim { dim, keepdim })
                .output_shape(&[&self.shape])
                .map_err(|e| Error::new(e.kind(), "argmax_dim", e.message()))?;
            // The mask is 1 at the first max of each lane, so sum(mask * position) is its index.
            let mask = Node::apply(MaxMask { dim }.into(), &[self])?;
            // Positions 0, 1, 2, ... along `dim`, made at run time (a running count of
            // ones), so a dim whose size is known only then works too.
            let ones = Node::apply(FullLike(T::one()).into(), &[self])?;
            let positions = &ones.try_cumsum(dim)? - T::one();
            (&mask * &positions).try_sum_dim(dim, keepdim)
        }
    }
}

view_methods!(Node, Float);
float_methods!(Node, Node<T>);
math_methods!(Node, Node<T>);
index_view_methods!(Node, Float);
index_methods!(Node, Node<T>, Node<T>);

impl<T: Float> Operand<i64, Node<T>> for Node<T> {
    fn operand(&self) -> (Aux<i64>, Option<Node<T>>) {
        (Aux::Input, Some(self.clone()))
    }
}

impl<T: Float> Operand<bool, Node<T>> for Node<T> {
    fn operand(&self) -> (Aux<bool>, Option<Node<T>>) {
        (Aux::Input, Some(self.clone()))
    }
}

/// Defines the six comparisons, giving 1 and 0 as `T`.
macro_rules! node_comparisons {
    ($($name:ident / $try_name:ident => $cmp:ident;)*) => {
        impl<T: Float> Node<T> {$(
            #[doc = concat!("`", stringify!($name), "` elementwise, as 1 (true) and 0 (false): a graph's values share one element type, so unlike `Tensor::", stringify!($name), "` (which gives `Tensor<bool>`) the result is a `Node<T>`. `rhs` is a node (broadcast) or a scalar.")]
            ///
            /// ```
            /// use tapegrad::graph::{Graph, Session};
            /// use tapegrad::Tensor;
            /// let g = Graph::<f32>::new();
            /// let x = g.placeholder("x", &[3]);
            #[doc = concat!("let m = x.", stringify!($name), "(2.0);")]
            /// let out = Session::new(&g).run(&[&m], &[(&x, &Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]))]).unwrap();
            /// assert!(out[0].to_vec().iter().all(|&v| v == 0.0 || v == 1.0));
            /// ```
            #[track_caller]
            pub fn $name<'a>(&self, rhs: impl Into<Rhs<'a, Node<T>, T>>) -> Node<T> {
                or_panic(self.$try_name(rhs))
            }

            #[doc = concat!("[`Node::", stringify!($name), "`] returning an error instead of panicking: for shapes that do not broadcast.")]
            ///
            /// ```
            /// let g = tapegrad::graph::Graph::<f32>::new();
            /// let (a, b) = (g.placeholder("a", &[3]), g.placeholder("b", &[2]));
            #[doc = concat!("assert!(a.", stringify!($try_name), "(&b).is_err());")]
            #[doc = concat!("assert_eq!(a.", stringify!($try_name), "(&a).unwrap().shape(), &[3]);")]
            /// ```
            pub fn $try_name<'a>(&self, rhs: impl Into<Rhs<'a, Node<T>, T>>) -> Result<Node<T>> {
                match rhs.into() {
                    Rhs::Value(other) => Node::apply(Predicate::Compare(Cmp::$cmp, None).into(), &[self, other]),
                    Rhs::Scalar(c) => Node::apply(Predicate::Compare(Cmp::$cmp, Some(c)).into(), &[self]),
                }
            }
        )*}
    };
}

node_comparisons! {
    eq / try_eq => Eq;
    ne / try_ne => Ne;
    lt / try_lt => Lt;
    le / try_le => Le;
    gt / try_gt => Gt;
    ge / try_ge => Ge;
}

impl<T: Float> Node<T> {
    /// 1 where an element is NaN, else 0 (`Tensor::isnan` gives `bool`s).
    ///
    /// ```
    /// use tapegrad::graph::{Graph, Session};
    /// use tapegrad::Tensor;
    /// let g = Graph::<f64>::new();
    /// let x = g.placeholder("x", &[3]);
    /// let run = |n: &tapegrad::graph::Node<f64>, v: Vec<f64>| Session::new(&g).run(&[n], &[(&x, &Tensor::from_vec(v, &[3]))]).unwrap()[0].to_vec();
    /// assert_eq!(run(&x.isnan(), vec![f64::NAN, 1.0, f64::INFINITY]), vec![1.0, 0.0, 0.0]);
    /// ```
    pub fn isnan(&self) -> Node<T> {
        or_panic(Node::apply(Predicate::IsNan.into(), &[self]))
    }

    /// 1 where an element is infinite, else 0.
    ///
    /// ```
    /// use tapegrad::graph::{Graph, Session};
    /// use tapegrad::Tensor;
    /// let g = Graph::<f64>::new();
    /// let x = g.placeholder("x", &[3]);
    /// let run = |n: &tapegrad::graph::Node<f64>, v: Vec<f64>| Session::new(&g).run(&[n], &[(&x, &Tensor::from_vec(v, &[3]))]).unwrap()[0].to_vec();
    /// assert_eq!(run(&x.isinf(), vec![f64::NAN, 1.0, f64::INFINITY]), vec![0.0, 0.0, 1.0]);
    /// ```
    pub fn isinf(&self) -> Node<T> {
        or_panic(Node::apply(Predicate::IsInf.into(), &[self]))
    }

    /// 1 where an element is finite, else 0.
    ///
    /// ```
    /// use tapegrad::graph::{Graph, Session};
    /// use tapegrad::Tensor;
    /// let g = Graph::<f64>::new();
    /// let x = g.placeholder("x", &[3]);
    /// let run = |n: &tapegrad::graph::Node<f64>, v: Vec<f64>| Session::new(&g).run(&[n], &[(&x, &Tensor::from_vec(v, &[3]))]).unwrap()[0].to_vec();
    /// assert_eq!(run(&x.isfinite(), vec![f64::NAN, 1.0, f64::INFINITY]), vec![0.0, 1.0, 0.0]);
    /// ```
    pub fn isfinite(&self) -> Node<T> {
        or_panic(Node::apply(Predicate::IsFinite.into(), &[self]))
    }

    fallible! { Node;
        /// 1 where both are nonzero, else 0 (a mask node's `logical_and`).
        ///
        /// ```
        /// use tapegrad::graph::{Graph, Session};
        /// use tapegrad::Tensor;
        /// let g = Graph::<f64>::new();
        /// let x = g.placeholder("x", &[3]);
        /// let run = |n: &tapegrad::graph::Node<f64>| Session::new(&g).run(&[n], &[(&x, &Tensor::from_vec(vec![3.0, 1.0, 2.0], &[3]))]).unwrap()[0].to_vec();
        /// assert_eq!(run(&x.gt(1.5).logical_and(&x.lt(2.5))), vec![0.0, 0.0, 1.0]);
        /// ```
        logical_and / try_logical_and (&self, other: &Node<T>) -> Node<T> {
            Node::apply(Predicate::And.into(), &[self, other])
        }
    }

    fallible! { Node;
        /// 1 where either is nonzero, else 0.
        ///
        /// ```
        /// use tapegrad::graph::{Graph, Session};
        /// use tapegrad::Tensor;
        /// let g = Graph::<f64>::new();
        /// let x = g.placeholder("x", &[3]);
        /// let run = |n: &tapegrad::graph::Node<f64>| Session::new(&g).run(&[n], &[(&x, &Tensor::from_vec(vec![3.0, 1.0, 2.0], &[3]))]).unwrap()[0].to_vec();
        /// assert_eq!(run(&x.gt(2.5).logical_or(&x.lt(1.5))), vec![1.0, 1.0, 0.0]);
        /// ```
        logical_or / try_logical_or (&self, other: &Node<T>) -> Node<T> {
            Node::apply(Predicate::Or.into(), &[self, other])
        }
    }

    /// 1 where this is 0, else 0.
    ///
    /// ```
    /// use tapegrad::graph::{Graph, Session};
    /// use tapegrad::Tensor;
    /// let g = Graph::<f64>::new();
    /// let x = g.placeholder("x", &[3]);
    /// let run = |n: &tapegrad::graph::Node<f64>, v: Vec<f64>| Session::new(&g).run(&[n], &[(&x, &Tensor::from_vec(v, &[3]))]).unwrap()[0].to_vec();
    /// assert_eq!(run(&x.logical_not(), vec![0.0, 1.0, 2.0]), vec![1.0, 0.0, 0.0]);
    /// ```
    pub fn logical_not(&self) -> Node<T> {
        or_panic(Node::apply(Predicate::Not.into(), &[self]))
    }

    /// 1 if any element is nonzero, else 0 (a scalar node).
    ///
    /// ```
    /// use tapegrad::graph::{Graph, Session};
    /// use tapegrad::Tensor;
    /// let g = Graph::<f64>::new();
    /// let x = g.placeholder("x", &[3]);
    /// let run = |n: &tapegrad::graph::Node<f64>, v: Vec<f64>| Session::new(&g).run(&[n], &[(&x, &Tensor::from_vec(v, &[3]))]).unwrap()[0].to_vec();
    /// assert_eq!(run(&x.any(), vec![0.0, 0.0, 2.0]), vec![1.0]);
    /// assert_eq!(run(&x.all(), vec![0.0, 0.0, 2.0]), vec![0.0]);
    /// ```
    pub fn any(&self) -> Node<T> {
        self.logical_not().min().logical_not()
    }

    /// 1 if every element is nonzero, else 0 (a scalar node).
    ///
    /// ```
    /// use tapegrad::graph::{Graph, Session};
    /// use tapegrad::Tensor;
    /// let g = Graph::<f64>::new();
    /// let x = g.placeholder("x", &[3]);
    /// let run = |n: &tapegrad::graph::Node<f64>, v: Vec<f64>| Session::new(&g).run(&[n], &[(&x, &Tensor::from_vec(v, &[3]))]).unwrap()[0].to_vec();
    /// assert_eq!(run(&x.all(), vec![1.0, -1.0, 2.0]), vec![1.0]);
    /// ```
    pub fn all(&self) -> Node<T> {
        self.logical_not().max().logical_not()
    }

    fallible! { Node;
        /// `on_true` where this mask node is nonzero, else `on_false`, all three broadcast
        /// together (`torch.where`); differentiable in both branches.
        ///
        /// ```
        /// use tapegrad::graph::{Graph, Session};
        /// use tapegrad::Tensor;
        /// let g = Graph::<f64>::new();
        /// let x = g.placeholder("x", &[3]);
        /// let run = |n: &tapegrad::graph::Node<f64>| Session::new(&g).run(&[n], &[(&x, &Tensor::from_vec(vec![3.0, 1.0, 2.0], &[3]))]).unwrap()[0].to_vec();
        /// assert_eq!(run(&x.gt(1.5).where_cond(&x, &(&x * 0.0))), vec![3.0, 0.0, 2.0]);
        /// ```
        where_cond / try_where_cond (&self, on_true: &Node<T>, on_false: &Node<T>) -> Node<T> {
            Node::apply(Where { cond: Aux::Input }.into(), &[on_true, on_false, self])
        }
    }

    fallible! { Node;
        /// Index of the min along `dim`, as `T` values (see [`Node::argmax_dim`]).
        ///
        /// ```
        /// use tapegrad::graph::{Graph, Session};
        /// use tapegrad::Tensor;
        /// let g = Graph::<f64>::new();
        /// let x = g.placeholder("x", &[3]);
        /// let run = |n: &tapegrad::graph::Node<f64>| Session::new(&g).run(&[n], &[(&x, &Tensor::from_vec(vec![3.0, 1.0, 2.0], &[3]))]).unwrap()[0].to_vec();
        /// assert_eq!(run(&x.argmin_dim(0, false)), vec![1.0]);
        /// ```
        argmin_dim / try_argmin_dim (&self, dim: impl Dim, keepdim: bool) -> Node<T> {
            let dim = resolve_dim("argmin_dim", dim, &self.shape)?;
            (-self).try_argmax_dim(dim, keepdim).map_err(|e| Error::new(e.kind(), "argmin_dim", e.message()))
        }
    }

    fallible! { Node;
        /// The permutation sorting along `dim`, as `T` values (stable; NaN last).
        ///
        /// ```
        /// use tapegrad::graph::{Graph, Session};
        /// use tapegrad::Tensor;
        /// let g = Graph::<f64>::new();
        /// let x = g.placeholder("x", &[3]);
        /// let run = |n: &tapegrad::graph::Node<f64>| Session::new(&g).run(&[n], &[(&x, &Tensor::from_vec(vec![3.0, 1.0, 2.0], &[3]))]).unwrap()[0].to_vec();
        /// assert_eq!(run(&x.argsort(0, false)), vec![1.0, 2.0, 0.0]);
        /// ```
        argsort / try_argsort (&self, dim: impl Dim, descending: bool) -> Node<T> {
            let dim = resolve_dim("argsort", dim, &self.shape)?;
            Node::apply(Argsort { dim, descending }.into(), &[self])
        }
    }

    fallible! { Node;
        /// The values sorted along `dim` and the permutation (as `T`); the values are
        /// differentiable, as `Tensor::sort`'s.
        ///
        /// ```
        /// use tapegrad::graph::{Graph, Session};
        /// use tapegrad::Tensor;
        /// let g = Graph::<f64>::new();
        /// let x = g.placeholder("x", &[3]);
        /// let run = |n: &tapegrad::graph::Node<f64>| Session::new(&g).run(&[n], &[(&x, &Tensor::from_vec(vec![3.0, 1.0, 2.0], &[3]))]).unwrap()[0].to_vec();
        /// assert_eq!(run(&x.sort(0, true).0), vec![3.0, 2.0, 1.0]);
        /// ```
        sort / try_sort (&self, dim: impl Dim, descending: bool) -> (Node<T>, Node<T>) {
            let dim = resolve_dim("sort", dim, &self.shape)?;
            let indices = self.try_argsort(dim, descending)?;
            Ok((self.try_gather(dim, &indices)?, indices))
        }
    }

    fallible! { Node;
        /// The `k` largest along `dim`, largest first, and their indices (as `T`).
        ///
        /// ```
        /// use tapegrad::graph::{Graph, Session};
        /// use tapegrad::Tensor;
        /// let g = Graph::<f64>::new();
        /// let x = g.placeholder("x", &[3]);
        /// let run = |n: &tapegrad::graph::Node<f64>| Session::new(&g).run(&[n], &[(&x, &Tensor::from_vec(vec![3.0, 1.0, 2.0], &[3]))]).unwrap()[0].to_vec();
        /// assert_eq!(run(&x.topk(2, 0).1), vec![0.0, 2.0]);
        /// ```
        topk / try_topk (&self, k: usize, dim: impl Dim) -> (Node<T>, Node<T>) {
            let dim = resolve_dim("topk", dim, &self.shape)?;
            if k > self.shape[dim] {
                return Err(Error::index(
                    "topk",
                    format!("k = {k} is larger than dim {dim} of size {} (shape {:?})", self.shape[dim], self.shape()),
                ));
            }
            let order = self.try_argsort(dim, true)?;
            let indices = order.try_narrow(dim, 0, k)?;
            Ok((self.try_gather(dim, &indices)?, indices))
        }
    }
}

crate::operators::impl_arithmetic!(Node);
