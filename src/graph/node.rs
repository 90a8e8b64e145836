//! `Node`: a value of the static graph, with the same math methods and operators as
//! `Tensor`. Each method adds one node after checking shapes, so a shape error surfaces
//! while the graph is built, naming the op and the shapes.

use super::{Graph, GraphInner, Kind};
use crate::autograd::backward::GradValue;
use crate::autograd::compose::{self, Compose};
use crate::autograd::Op;
use crate::error::{or_panic, Error, ErrorKind, Result};
use crate::shape::Shape;
use num_traits::Float;
use smallvec::SmallVec;
use std::sync::Arc;

/// A value in a [`Graph`]: a placeholder, constant, variable, or an op on other nodes.
/// Cheap to clone.
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
            "Node(graph {}, id {}, shape {:?})",
            self.graph.id,
            self.id,
            self.shape.as_slice()
        )
    }
}

impl<T: Float> GradValue<T> for Node<T> {
    fn shape(&self) -> &[usize] {
        &self.shape
    }

    fn apply(op: Op<T>, inputs: &[&Self]) -> Self {
        match Node::apply(op, inputs) {
            Ok(node) => node,
            Err(e) => panic!("a gradient rule built an inconsistent op (a tapegrad bug): {e}"),
        }
    }
}

/// `name(&self, ...)` panicking and `try_name(&self, ...)` returning `Result`, as on Tensor.
macro_rules! node_ops {
    ($($(#[$doc:meta])* $name:ident / $try_name:ident ($($arg:ident : $ty:ty),*) => $op:expr;)*) => {$(
        $(#[$doc])*
        #[track_caller]
        pub fn $name(&self $(, $arg: $ty)*) -> Node<T> {
            or_panic(self.$try_name($($arg),*))
        }

        #[doc = concat!("[`Node::", stringify!($name), "`] returning an error instead of panicking.")]
        pub fn $try_name(&self $(, $arg: $ty)*) -> Result<Node<T>> {
            Node::apply($op, &[self])
        }
    )*};
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
        let shape = op.output_shape(&shapes)?;
        let inputs = inputs.iter().map(|n| n.id).collect();
        Ok(Graph::add(graph, Kind::Apply { op, inputs }, shape))
    }

    /// The shape, known when the node was built.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The number of dims.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// A node that, when run, stores `value` into this variable and evaluates to it (like
    /// `tf.assign`). Panics if this is not a variable or the shapes differ.
    #[track_caller]
    pub fn assign(&self, value: &Node<T>) -> Node<T> {
        or_panic(self.try_assign(value))
    }

    /// [`Node::assign`] returning an error instead of panicking.
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

    /// Elementwise `self + other` with broadcasting; also `&a + &b`.
    pub fn try_add(&self, other: &Node<T>) -> Result<Node<T>> {
        Node::apply(Op::Add, &[self, other])
    }

    /// Elementwise `self - other` with broadcasting; also `&a - &b`.
    pub fn try_sub(&self, other: &Node<T>) -> Result<Node<T>> {
        Node::apply(Op::Sub, &[self, other])
    }

    /// Elementwise `self * other` with broadcasting; also `&a * &b`.
    pub fn try_mul(&self, other: &Node<T>) -> Result<Node<T>> {
        Node::apply(Op::Mul, &[self, other])
    }

    /// Elementwise `self / other` with broadcasting; also `&a / &b`.
    pub fn try_div(&self, other: &Node<T>) -> Result<Node<T>> {
        Node::apply(Op::Div, &[self, other])
    }

    node_ops! {
        /// `self ^ exponent` elementwise.
        pow / try_pow (exponent: T) => Op::Pow(exponent);
        /// `e^x` elementwise.
        exp / try_exp () => Op::Exp;
        /// Natural logarithm elementwise.
        log / try_log () => Op::Log;
        /// Square root elementwise.
        sqrt / try_sqrt () => Op::Sqrt;
        /// Absolute value elementwise.
        abs / try_abs () => Op::Abs;
        /// `max(x, 0)` elementwise.
        relu / try_relu () => Op::Relu;
        /// The logistic function elementwise.
        sigmoid / try_sigmoid () => Op::Sigmoid;
        /// Hyperbolic tangent elementwise.
        tanh / try_tanh () => Op::Tanh;
        /// Sum of all elements (a scalar node), like `tf.reduce_sum(x)`.
        sum / try_sum () => Op::Sum;
        /// Mean of all elements (a scalar node), like `tf.reduce_mean(x)`.
        mean / try_mean () => Op::Mean;
        /// Sum along `dim`, like `tf.reduce_sum(x, axis=dim)`.
        sum_dim / try_sum_dim (dim: usize, keepdim: bool) => Op::SumDim { dim, keepdim };
        /// Mean along `dim`.
        mean_dim / try_mean_dim (dim: usize, keepdim: bool) => Op::MeanDim { dim, keepdim };
        /// Index of the max along `dim`, as `T` values (not differentiable).
        argmax_dim / try_argmax_dim (dim: usize, keepdim: bool) => Op::ArgMaxDim { dim, keepdim };
        /// A contiguous copy (a no-op for values the graph computes).
        contiguous / try_contiguous () => Op::Contiguous;
        /// Swaps dims `d0` and `d1`.
        transpose / try_transpose (d0: usize, d1: usize) => Op::Transpose(d0, d1);
        /// Reorders the dims.
        permute / try_permute (dims: &[usize]) => Op::Permute(Shape::from_slice(dims));
    }

    /// The max along `dim` and its index, like `Tensor::max_dim`: the values are
    /// differentiable (the gradient goes to the index), the indices are not.
    #[track_caller]
    pub fn max_dim(&self, dim: usize, keepdim: bool) -> (Node<T>, Node<T>) {
        or_panic(self.try_max_dim(dim, keepdim))
    }

    /// [`Node::max_dim`] returning an error instead of panicking.
    pub fn try_max_dim(&self, dim: usize, keepdim: bool) -> Result<(Node<T>, Node<T>)> {
        let values = Node::apply(Op::MaxDim { dim, keepdim }, &[self])?;
        Ok((values, self.try_argmax_dim(dim, keepdim)?))
    }

    /// The transpose of a 2-D node. Panics unless 2-D.
    #[track_caller]
    pub fn t(&self) -> Node<T> {
        if self.ndim() != 2 {
            panic!(
                "t: expected a 2-D node, got shape {:?} (use transpose(d0, d1))",
                self.shape()
            );
        }
        self.transpose(0, 1)
    }
}

/// Defines `name(&self, ...)` panicking and `try_name(&self, ...)` through `compose`.
macro_rules! composed {
    ($($(#[$doc:meta])* $name:ident / $try_name:ident ($($arg:ident : $ty:ty),*);)*) => {
        impl<T: Float> Node<T> {$(
            $(#[$doc])*
            #[track_caller]
            pub fn $name(&self $(, $arg: $ty)*) -> Node<T> {
                or_panic(self.$try_name($($arg),*))
            }

            #[doc = concat!("[`Node::", stringify!($name), "`] returning an error instead of panicking.")]
            pub fn $try_name(&self $(, $arg: $ty)*) -> Result<Node<T>> {
                compose::$name(self $(, $arg)*)
            }
        )*}
    };
}

composed! {
    /// Matrix product of two 2-D nodes, like `tf.matmul` on matrices.
    mm / try_mm (other: &Node<T>);
    /// Matrix product like `Tensor::matmul`: 1-D, 2-D and batched with broadcasting.
    matmul / try_matmul (other: &Node<T>);
    /// The same elements in a new shape.
    reshape / try_reshape (shape: &[usize]);
    /// Repeats along broadcast dims.
    broadcast_to / try_broadcast_to (shape: &[usize]);
    /// Inserts a dim of size 1 at `dim` (0 ..= ndim).
    unsqueeze / try_unsqueeze (dim: usize);
    /// Removes dim `dim`, which must have size 1.
    squeeze_dim / try_squeeze_dim (dim: usize);
}

impl<T: Float> Compose<T> for Node<T> {
    fn dims(&self) -> &[usize] {
        &self.shape
    }

    fn apply_op(op: Op<T>, inputs: &[&Self]) -> Result<Self> {
        Node::apply(op, inputs)
    }
}

crate::operators::impl_arithmetic!(Node);
