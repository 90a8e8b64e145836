//! The static graph: define first, run later, like TensorFlow 1 (the lecture's last slide).
//!
//! A [`Graph`] records [`Node`]s — placeholders, constants, variables and ops — without
//! computing anything; shapes are inferred and checked as each node is added. A
//! placeholder dim of `-1` is known only at run time, like TF1's `None`: one graph then
//! takes batches of any size, and each run checks its feeds (see [`Graph::placeholder`]).
//! [`Graph::gradients`] adds gradient nodes, built by the very chain rules eager
//! `backward()` runs, and a [`Session`] evaluates the nodes a fetch
//! needs with the same kernels as eager tensors (each op's one forward, in the crate's
//! `ops` module).
//!
//! ```
//! use tapegrad::graph::{Graph, Session};
//! use tapegrad::Tensor;
//! # fn main() -> tapegrad::Result<()> {
//! let g = Graph::<f32>::new();
//! let x = g.placeholder("x", &[64, 4]);
//! let y = g.placeholder("y", &[64, 2]);
//! let w = g.placeholder("w", &[4, 2]);
//! let y_pred = x.matmul(&w);
//! let loss = (&y_pred - &y).pow(2.0).sum_dim(1, false).mean();
//! let grads = g.gradients(&loss, &[&w]);
//! let sess = Session::new(&g);
//! let (xv, yv, wv) = (Tensor::randn(&[64, 4]), Tensor::randn(&[64, 2]), Tensor::randn(&[4, 2]));
//! let out = sess.run(&[&loss, &grads[0]], &[(&x, &xv), (&y, &yv), (&w, &wv)])?;
//! assert_eq!(out[1].shape(), &[4, 2]);
//! # Ok(())
//! # }
//! ```

mod node;
mod prepared;
mod program;
mod session;
pub(crate) mod sizes;

pub use node::Node;
pub use session::Session;

use crate::array::Array;
use crate::dim::ShapeArg;
use crate::element::Float;
use crate::error::{or_panic, Error, ErrorKind, Result};
use crate::ops::{Add, FullLike, Op, Rule, Value};
use crate::shape::{shape_of, Shape};
use crate::tensor::Tensor;
use smallvec::SmallVec;
use std::cell::RefCell;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

static NEXT_GRAPH: AtomicU64 = AtomicU64::new(0);

/// A static computation graph over `T` (f32 by default).
///
/// ```
/// use tapegrad::graph::{Graph, Session};
/// use tapegrad::Tensor;
/// let g = Graph::<f32>::new();
/// let x = g.placeholder("x", &[2]);
/// let y = (&x * &x).sum();
/// let out = Session::new(&g).run(&[&y], &[(&x, &Tensor::from_vec(vec![3.0, 4.0], &[2]))]).unwrap();
/// assert_eq!(out[0].item(), 25.0);
/// ```
pub struct Graph<T: Float = f32> {
    pub(crate) inner: Arc<GraphInner<T>>,
}

pub(crate) struct GraphInner<T: Float> {
    pub(crate) id: u64,
    pub(crate) nodes: RwLock<Vec<NodeDef<T>>>,
}

/// One node as the graph stores it. Node ids grow as nodes are added, and every node's
/// inputs have smaller ids: increasing id order is a topological order.
pub(crate) struct NodeDef<T: Float> {
    pub(crate) kind: Kind<T>,
    pub(crate) shape: Shape,
}

pub(crate) enum Kind<T: Float> {
    /// Fed at each run.
    Placeholder(String),
    /// A value fixed when the graph is built.
    Constant(Array<T>),
    /// A value that lives across runs and changes through `assign`.
    Variable {
        name: String,
        value: Mutex<Array<T>>,
    },
    /// An op applied to other nodes.
    Apply {
        op: Op<T>,
        inputs: SmallVec<[usize; 2]>,
    },
    /// Writes `value` into `variable` when run; evaluates to the new value.
    Assign { variable: usize, value: usize },
}

/// A node's op and inputs (None for a source) and shape, copied out of the graph so that
/// `gradients` can add nodes while it walks.
type Snapshot<T> = (Option<(Op<T>, SmallVec<[usize; 2]>)>, Shape);

impl<T: Float> Default for Graph<T> {
    fn default() -> Self {
        Graph::new()
    }
}

impl<T: Float> Graph<T> {
    /// An empty graph.
    ///
    /// ```
    /// let g = tapegrad::graph::Graph::<f64>::new();
    /// assert!(g.to_dot().starts_with("digraph"));
    /// ```
    pub fn new() -> Self {
        Graph {
            inner: Arc::new(GraphInner {
                id: NEXT_GRAPH.fetch_add(1, Ordering::Relaxed),
                nodes: RwLock::new(Vec::new()),
            }),
        }
    }

    pub(crate) fn add(inner: &Arc<GraphInner<T>>, kind: Kind<T>, shape: Shape) -> Node<T> {
        Graph::add_with(inner, |_| (kind, shape))
    }

    /// Adds the node `make(id)` gives, `id` being the one it gets (a data-dependent length
    /// is written with its node's id).
    pub(crate) fn add_with(
        inner: &Arc<GraphInner<T>>,
        make: impl FnOnce(usize) -> (Kind<T>, Shape),
    ) -> Node<T> {
        let mut nodes = inner.nodes.write().unwrap_or_else(PoisonError::into_inner);
        let (kind, shape) = make(nodes.len());
        nodes.push(NodeDef {
            kind,
            shape: shape.clone(),
        });
        Node {
            graph: Arc::clone(inner),
            id: nodes.len() - 1,
            shape,
        }
    }

    /// A value fed at each [`Session::run`], like `tf.placeholder(dtype, shape)`. A dim of
    /// `-1` is unknown until the run, like TF1's `None`: `&[-1, 4]` takes a batch of any
    /// size. Panics on a bad shape (see [`Graph::try_placeholder`]).
    ///
    /// Every `-1` in a graph stands for the same size `N` (the batch size, say): each run
    /// learns it from the feeds and checks that they agree. Shapes built from it are shown
    /// as `N`, `4N` or `N-1` (see [`Node::static_shape`]); gradients build as usual.
    ///
    /// ```
    /// use tapegrad::graph::{Graph, Session};
    /// use tapegrad::Tensor;
    /// let g = Graph::<f32>::new();
    /// assert_eq!(g.placeholder("x", &[64, 4]).shape(), &[64, 4]);
    /// let x = g.placeholder("batch", &[-1, 4]);
    /// assert_eq!(x.static_shape(), vec![None, Some(4)]);
    /// let total = x.sum_dim(0, false);
    /// let sess = Session::new(&g);
    /// for n in [1, 3] {
    ///     let out = sess.run(&[&total], &[(&x, &Tensor::ones(&[n, 4]))]).unwrap();
    ///     assert_eq!(out[0].to_vec(), vec![n as f32; 4]);
    /// }
    /// assert!(sess.run(&[&total], &[(&x, &Tensor::ones(&[3, 5]))]).is_err());
    /// ```
    #[track_caller]
    pub fn placeholder<S: ShapeArg + ?Sized>(&self, name: &str, shape: &S) -> Node<T> {
        or_panic(self.try_placeholder(name, shape))
    }

    /// [`Graph::placeholder`] returning an error for a dim below -1, more than one `-1`, or
    /// a size too large for a tensor.
    ///
    /// ```
    /// let g = tapegrad::graph::Graph::<f32>::new();
    /// assert!(g.try_placeholder("x", &[-1, 4]).is_ok());
    /// assert!(g.try_placeholder("x", &[-2, 4]).is_err());
    /// assert!(g.try_placeholder("x", &[-1, -1]).is_err());
    /// ```
    pub fn try_placeholder<S: ShapeArg + ?Sized>(&self, name: &str, shape: &S) -> Result<Node<T>> {
        let dims = shape.signed_dims();
        let bad = |why: &str| {
            Err(Error::shape(
                "placeholder",
                format!("placeholder '{name}' with shape {dims:?}: {why}"),
            ))
        };
        if dims.iter().filter(|&&d| d == -1).count() > 1 {
            return bad("at most one dim can be -1 (every -1 of a graph is the same size)");
        }
        let mut out = Shape::with_capacity(dims.len());
        for &d in &dims {
            match d {
                -1 => out.push(sizes::UNIT),
                d if d < 0 => return bad("a dim is a size or -1 (unknown until run)"),
                d if d as u64 > sizes::MAX_KNOWN as u64 => {
                    return bad(&format!("a dim is at most {}", sizes::MAX_KNOWN))
                }
                d => out.push(d as usize),
            }
        }
        crate::shape::check_numel("placeholder", &out)?;
        Ok(Graph::add(
            &self.inner,
            Kind::Placeholder(name.to_string()),
            out,
        ))
    }

    /// A value fixed in the graph (copied now).
    ///
    /// ```
    /// use tapegrad::graph::{Graph, Session};
    /// use tapegrad::Tensor;
    /// let g = Graph::<f32>::new();
    /// let c = g.constant(&Tensor::from_vec(vec![1.5], &[1]));
    /// assert_eq!(Session::new(&g).run(&[&c], &[]).unwrap()[0].to_vec(), vec![1.5]);
    /// ```
    pub fn constant(&self, value: &Tensor<T>) -> Node<T> {
        let array = value.array().private_copy();
        Graph::add(&self.inner, Kind::Constant(array), shape_of(value.shape()))
    }

    /// A value kept across runs, starting at `initial` (copied now), like `tf.Variable`.
    /// Change it with [`Node::assign`].
    ///
    /// ```
    /// use tapegrad::graph::{Graph, Session};
    /// use tapegrad::Tensor;
    /// let g = Graph::<f32>::new();
    /// let w = g.variable("w", &Tensor::from_vec(vec![1.0], &[1]));
    /// let step = w.assign(&(&w * 2.0));
    /// let sess = Session::new(&g);
    /// sess.run(&[&step], &[]).unwrap();
    /// sess.run(&[&step], &[]).unwrap();
    /// assert_eq!(g.variable_value(&w).unwrap().to_vec(), vec![4.0]);
    /// ```
    pub fn variable(&self, name: &str, initial: &Tensor<T>) -> Node<T> {
        let value = Mutex::new(initial.array().private_copy());
        Graph::add(
            &self.inner,
            Kind::Variable {
                name: name.to_string(),
                value,
            },
            shape_of(initial.shape()),
        )
    }

    /// The current value of a variable node (errors for other nodes).
    ///
    /// ```
    /// use tapegrad::graph::Graph;
    /// use tapegrad::Tensor;
    /// let g = Graph::<f32>::new();
    /// let w = g.variable("w", &Tensor::ones(&[2]));
    /// assert_eq!(g.variable_value(&w).unwrap().to_vec(), vec![1.0, 1.0]);
    /// assert!(g.variable_value(&g.placeholder("x", &[1])).is_err());
    /// ```
    pub fn variable_value(&self, variable: &Node<T>) -> Result<Tensor<T>> {
        self.check_owns("variable_value", variable)?;
        let nodes = self
            .inner
            .nodes
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        match &nodes[variable.id].kind {
            Kind::Variable { value, .. } => {
                let value = value.lock().unwrap_or_else(PoisonError::into_inner);
                Ok(Tensor::from_array(value.private_copy()))
            }
            _ => Err(Error::new(
                ErrorKind::Graph,
                "variable_value",
                "the node is not a variable",
            )),
        }
    }

    pub(crate) fn check_owns(&self, op: &'static str, node: &Node<T>) -> Result<()> {
        if Arc::ptr_eq(&self.inner, &node.graph) {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::Graph,
                op,
                format!("node {} belongs to another graph", node.id),
            ))
        }
    }

    /// Adds nodes computing the gradient of `sum(y)` with respect to each of `xs`, like
    /// `tf.gradients(y, xs)`. The gradient nodes are ordinary nodes: they can feed further
    /// nodes (`&w - &(lr * &grads[0])`). An `x` that `y` does not depend on gets zeros.
    /// Panics on a node of another graph (see [`Graph::try_gradients`]).
    ///
    /// ```
    /// use tapegrad::graph::{Graph, Session};
    /// use tapegrad::Tensor;
    /// let g = Graph::<f64>::new();
    /// let x = g.placeholder("x", &[2]);
    /// let dx = g.gradients(&(&x * &x).sum(), &[&x]).remove(0); // 2x
    /// let out = Session::new(&g).run(&[&dx], &[(&x, &Tensor::from_vec(vec![1.0, -3.0], &[2]))]).unwrap();
    /// assert_eq!(out[0].to_vec(), vec![2.0, -6.0]);
    /// ```
    #[track_caller]
    pub fn gradients(&self, y: &Node<T>, xs: &[&Node<T>]) -> Vec<Node<T>> {
        or_panic(self.try_gradients(y, xs))
    }

    /// [`Graph::gradients`] returning an error for a node of another graph.
    ///
    /// ```
    /// use tapegrad::graph::Graph;
    /// let (g, h) = (Graph::<f32>::new(), Graph::<f32>::new());
    /// let x = g.placeholder("x", &[1]);
    /// assert!(h.try_gradients(&x.sum(), &[&x]).is_err());
    /// ```
    pub fn try_gradients(&self, y: &Node<T>, xs: &[&Node<T>]) -> Result<Vec<Node<T>>> {
        self.check_owns("gradients", y)?;
        for x in xs {
            self.check_owns("gradients", x)?;
        }
        // Which nodes lie on a path from some x (forward marks) — only those need gradients.
        let (defs, depends): (Vec<Snapshot<T>>, Vec<bool>) = {
            let nodes = self
                .inner
                .nodes
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            let mut depends = vec![false; y.id + 1];
            for x in xs {
                if x.id <= y.id {
                    depends[x.id] = true;
                }
            }
            let defs: Vec<_> = nodes[..=y.id]
                .iter()
                .map(|d| match &d.kind {
                    Kind::Apply { op, inputs } => {
                        (Some((op.clone(), inputs.clone())), d.shape.clone())
                    }
                    _ => (None, d.shape.clone()),
                })
                .collect();
            for (id, (def, _)) in defs.iter().enumerate() {
                if let Some((_, inputs)) = def
                    && inputs.iter().any(|&i| depends[i])
                {
                    depends[id] = true;
                }
            }
            (defs, depends)
        };
        let node = |id: usize| Node {
            graph: Arc::clone(&self.inner),
            id,
            shape: defs[id].1.clone(),
        };
        let mut grads: Vec<Option<Node<T>>> = vec![None; y.id + 1];
        grads[y.id] = Some(self.filled_like(y, T::one())?);
        for id in (0..=y.id).rev() {
            let (Some((op, inputs)), _) = &defs[id] else {
                continue; // a source (placeholder, constant, variable) keeps its gradient
            };
            let Some(g) = grads[id].take() else {
                continue;
            };
            let needs: SmallVec<[bool; 2]> = inputs.iter().map(|&i| depends[i]).collect();
            if !needs.iter().any(|&n| n) {
                grads[id] = Some(g);
                continue;
            }
            if op.lacks_derivative() {
                return Err(crate::autograd::tape::not_differentiable(op.name()));
            }
            let input_nodes: SmallVec<[Node<T>; 2]> = inputs.iter().map(|&i| node(i)).collect();
            let input_shapes: SmallVec<[Shape; 2]> =
                inputs.iter().map(|&i| defs[i].1.clone()).collect();
            let output = node(id);
            let input_grads = RefCell::new(SmallVec::new());
            let rule = Rule {
                inputs: &input_nodes,
                output: Some(&output),
                shapes: &input_shapes,
                needs: &needs,
                grads: &input_grads,
            };
            op.input_grads(&rule, &g);
            for (&i, gi) in inputs.iter().zip(input_grads.into_inner()) {
                if let Some(gi) = gi {
                    grads[i] = Some(match grads[i].take() {
                        Some(acc) => <Node<T> as Value<T>>::apply(Add, &[&acc, &gi]),
                        None => gi,
                    });
                }
            }
            grads[id] = Some(g);
        }
        xs.iter()
            .map(|x| match grads.get(x.id).and_then(Option::as_ref) {
                Some(g) => Ok(g.clone()),
                None => self.filled_like(x, T::zero()),
            })
            .collect()
    }

    /// A node of `like`'s shape filled with `value`: a constant, or, if the shape is known
    /// only at run time, an op that makes it then.
    fn filled_like(&self, like: &Node<T>, value: T) -> Result<Node<T>> {
        if like.shape.iter().any(|&d| sizes::is_unknown(d)) {
            Node::apply(FullLike(value).into(), &[like])
        } else {
            Ok(self.constant(&Tensor::full(like.shape(), value)))
        }
    }

    /// The graph as Graphviz DOT text: placeholders, variables and constants as ellipses,
    /// ops as boxes with their output shapes.
    ///
    /// ```
    /// let g = tapegrad::graph::Graph::<f32>::new();
    /// let x = g.placeholder("x", &[2]);
    /// let _ = x.exp();
    /// assert!(g.to_dot().contains("exp"));
    /// ```
    pub fn to_dot(&self) -> String {
        let nodes = self
            .inner
            .nodes
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let mut out =
            String::from("digraph graph {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n");
        for (id, def) in nodes.iter().enumerate() {
            let shape = sizes::display_shape(&def.shape);
            let _ = match &def.kind {
                Kind::Placeholder(name) => {
                    writeln!(out, "  n{id} [label=\"{name}\\nplaceholder {shape}\" shape=ellipse style=filled fillcolor=lightblue];")
                }
                Kind::Constant(_) => writeln!(out, "  n{id} [label=\"constant {shape}\" shape=ellipse style=filled fillcolor=lightgrey];"),
                Kind::Variable { name, .. } => {
                    writeln!(out, "  n{id} [label=\"{name}\\nvariable {shape}\" shape=ellipse style=filled fillcolor=lightyellow];")
                }
                Kind::Apply { op, inputs } => {
                    let _ = writeln!(out, "  n{id} [label=\"{}\\n{shape}\" shape=box];", op.name());
                    inputs.iter().try_for_each(|i| writeln!(out, "  n{i} -> n{id};"))
                }
                Kind::Assign { variable, value } => writeln!(
                    out,
                    "  n{id} [label=\"assign\" shape=box style=dashed];\n  n{value} -> n{id};\n  n{id} -> n{variable} [style=dashed];"
                ),
            };
        }
        out.push_str("}\n");
        out
    }
}
