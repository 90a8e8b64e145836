//! `Node`: a value of the static graph, with the same math methods and operators as
//! `Tensor`. Each method adds one node after checking shapes, so a shape error surfaces
//! while the graph is built, naming the op and the shapes.

use super::{Graph, GraphInner, Kind};
use crate::autograd::backward::GradValue;
use crate::autograd::compose::{self, Compose};
use crate::autograd::Op;
use crate::error::{or_panic, Error, ErrorKind, Result};
use crate::operators::fallible;
use crate::shape::{shape_of, Shape};
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

    fallible! { Node;
        /// `self ^ exponent` elementwise.
        pow / try_pow (&self, exponent: T) -> Node<T> {
            Node::apply(Op::Pow(exponent), &[self])
        }
    }

    fallible! { Node;
        /// `e^x` elementwise.
        exp / try_exp (&self) -> Node<T> {
            Node::apply(Op::Exp, &[self])
        }
    }

    fallible! { Node;
        /// Natural logarithm elementwise.
        log / try_log (&self) -> Node<T> {
            Node::apply(Op::Log, &[self])
        }
    }

    fallible! { Node;
        /// Square root elementwise.
        sqrt / try_sqrt (&self) -> Node<T> {
            Node::apply(Op::Sqrt, &[self])
        }
    }

    fallible! { Node;
        /// Absolute value elementwise.
        abs / try_abs (&self) -> Node<T> {
            Node::apply(Op::Abs, &[self])
        }
    }

    fallible! { Node;
        /// `max(x, 0)` elementwise.
        relu / try_relu (&self) -> Node<T> {
            Node::apply(Op::Relu, &[self])
        }
    }

    fallible! { Node;
        /// The logistic function elementwise.
        sigmoid / try_sigmoid (&self) -> Node<T> {
            Node::apply(Op::Sigmoid, &[self])
        }
    }

    fallible! { Node;
        /// Hyperbolic tangent elementwise.
        tanh / try_tanh (&self) -> Node<T> {
            Node::apply(Op::Tanh, &[self])
        }
    }

    fallible! { Node;
        /// `ln(1 + e^x)` elementwise, without overflow, like `tf.nn.softplus`.
        softplus / try_softplus (&self) -> Node<T> {
            Node::apply(Op::Softplus, &[self])
        }
    }

    fallible! { Node;
        /// Sum of all elements (a scalar node), like `tf.reduce_sum(x)`.
        sum / try_sum (&self) -> Node<T> {
            Node::apply(Op::Sum, &[self])
        }
    }

    fallible! { Node;
        /// Mean of all elements (a scalar node), like `tf.reduce_mean(x)`.
        mean / try_mean (&self) -> Node<T> {
            Node::apply(Op::Mean, &[self])
        }
    }

    fallible! { Node;
        /// Sum along `dim`, like `tf.reduce_sum(x, axis=dim)`.
        sum_dim / try_sum_dim (&self, dim: usize, keepdim: bool) -> Node<T> {
            Node::apply(Op::SumDim { dim, keepdim }, &[self])
        }
    }

    fallible! { Node;
        /// Mean along `dim`.
        mean_dim / try_mean_dim (&self, dim: usize, keepdim: bool) -> Node<T> {
            Node::apply(Op::MeanDim { dim, keepdim }, &[self])
        }
    }

    fallible! { Node;
        /// Index of the max along `dim`, as `T` values (not differentiable).
        argmax_dim / try_argmax_dim (&self, dim: usize, keepdim: bool) -> Node<T> {
            Node::apply(Op::ArgMaxDim { dim, keepdim }, &[self])
        }
    }

    fallible! { Node;
        /// A contiguous copy (a no-op for values the graph computes).
        contiguous / try_contiguous (&self) -> Node<T> {
            Node::apply(Op::Contiguous, &[self])
        }
    }

    fallible! { Node;
        /// Swaps dims `d0` and `d1`.
        transpose / try_transpose (&self, d0: usize, d1: usize) -> Node<T> {
            Node::apply(Op::Transpose(d0, d1), &[self])
        }
    }

    fallible! { Node;
        /// Reorders the dims.
        permute / try_permute (&self, dims: &[usize]) -> Node<T> {
            Node::apply(Op::Permute(shape_of(dims)), &[self])
        }
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

impl<T: Float> Node<T> {
    fallible! { Node;
        /// Matrix product of two 2-D nodes, like `tf.matmul` on matrices.
        mm / try_mm (&self, other: &Node<T>) -> Node<T> {
            compose::mm(self, other)
        }
    }

    fallible! { Node;
        /// Matrix product like `Tensor::matmul`: 1-D, 2-D and batched with broadcasting.
        matmul / try_matmul (&self, other: &Node<T>) -> Node<T> {
            compose::matmul(self, other)
        }
    }

    fallible! { Node;
        /// The same elements in a new shape.
        reshape / try_reshape (&self, shape: &[usize]) -> Node<T> {
            compose::reshape(self, shape)
        }
    }

    fallible! { Node;
        /// Repeats along broadcast dims.
        broadcast_to / try_broadcast_to (&self, shape: &[usize]) -> Node<T> {
            compose::broadcast_to(self, shape)
        }
    }

    fallible! { Node;
        /// Inserts a dim of size 1 at `dim` (0 ..= ndim).
        unsqueeze / try_unsqueeze (&self, dim: usize) -> Node<T> {
            compose::unsqueeze(self, dim)
        }
    }

    fallible! { Node;
        /// Removes dim `dim`, which must have size 1.
        squeeze_dim / try_squeeze_dim (&self, dim: usize) -> Node<T> {
            compose::squeeze_dim(self, dim)
        }
    }
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
