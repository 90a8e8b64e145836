//! `Node`: a value of the static graph, with the same math methods and operators as
//! `Tensor`. Each method adds one node after checking shapes, so a shape error surfaces
//! while the graph is built, naming the op and the shapes.

use super::{Graph, GraphInner, Kind};
use crate::dim::{resolve_dim, Dim};
use crate::element::Float;
use crate::error::{or_panic, Error, ErrorKind, Result};
use crate::operators::fallible;
use crate::ops::methods::{float_methods, view_methods};
use crate::ops::{MaxDim, MaxMask, Op, Value, View};
use crate::shape::Shape;
use crate::tensor::Tensor;
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
            "Node(graph {}, id {}, shape {:?})",
            self.graph.id,
            self.id,
            self.shape.as_slice()
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
            let mut along: Shape = smallvec::smallvec![1; self.shape.len()];
            along[dim] = self.shape[dim];
            let positions = Graph {
                inner: Arc::clone(&self.graph),
            }
            .constant(&Tensor::from_vec(
                (0..self.shape[dim])
                    .map(|i| T::from(i).unwrap_or_else(T::nan))
                    .collect(),
                &along,
            ));
            (&mask * &positions).try_sum_dim(dim, keepdim)
        }
    }
}

view_methods!(Node, Float);
float_methods!(Node, Node<T>);

crate::operators::impl_arithmetic!(Node);
