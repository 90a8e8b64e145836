//! The tape: recording nodes as ops run, and walking them back in `backward`.
//!
//! There is no global tape. A tensor made by a recorded op owns an `Arc<Node>`; the node
//! owns edges to the nodes (or leaf tensors) of its inputs. The graph therefore lives
//! exactly as long as something that can reach it: drop a step's loss and intermediates
//! and the whole step's graph is freed, so a training loop runs in flat memory.

use super::grad_mode::is_grad_enabled;
use crate::array::{self, Array};
use crate::element::{Element, Float};
use crate::error::{Error, Result};
use crate::ops::{Add, Op, Rule, Saves, Value, View};
use crate::shape::{shape_of, Shape};
use crate::tensor::{Tensor, TensorImpl};
use smallvec::SmallVec;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

/// Creation order of nodes. A node is always made after the nodes of its inputs, so
/// visiting nodes by decreasing `seq` visits every consumer before what it consumes:
/// a topological order without a visited set (PyTorch's engine uses the same key).
static NEXT_SEQ: AtomicU64 = AtomicU64::new(0);

/// One recorded op application.
pub(crate) struct Node<T: Element> {
    pub(crate) seq: u64,
    pub(crate) op: Op<T>,
    pub(crate) inputs: SmallVec<[Edge<T>; 3]>,
    pub(crate) input_shapes: SmallVec<[Shape; 3]>,
    pub(crate) output_shape: Shape,
    saved: Mutex<Saved<T>>,
    /// Set by `retain_grad`: the (non-leaf) tensor that wants this node's gradient kept.
    retained: Mutex<Option<Weak<TensorImpl<T>>>>,
}

/// Where an input's gradient goes.
pub(crate) enum Edge<T: Element> {
    /// The input does not require grad.
    Constant,
    /// A leaf that requires grad: its `.grad()` accumulates.
    Leaf(Tensor<T>),
    /// The output of another recorded op.
    Node(Arc<Node<T>>),
}

/// The values backward needs, with the storage version each had when it was saved.
struct Saved<T: Element> {
    inputs: SmallVec<[Option<Array<T>>; 3]>,
    output: Option<Array<T>>,
    versions: SmallVec<[u64; 3]>,
    freed: bool,
}

/// Wraps `output` as a tensor, recording `op` if gradients are enabled and an input needs one.
/// Only float tensors can require grad, so for other element types this just wraps.
pub(crate) fn record<T: Element>(op: Op<T>, inputs: &[&Tensor<T>], output: Array<T>) -> Tensor<T> {
    if !is_grad_enabled() || !inputs.iter().any(|t| t.requires_grad()) {
        return Tensor::from_array(output);
    }
    let Saves {
        inputs: save_inputs,
        output: save_output,
    } = op.saves();
    let mut versions = SmallVec::new();
    let saved_inputs = inputs
        .iter()
        .map(|t| {
            save_inputs.then(|| {
                versions.push(t.array().version());
                t.array().clone()
            })
        })
        .collect();
    let saved_output = save_output.then(|| {
        versions.push(output.version());
        output.clone()
    });
    let node = Node {
        seq: NEXT_SEQ.fetch_add(1, Ordering::Relaxed),
        inputs: inputs.iter().map(|t| edge_to(t)).collect(),
        input_shapes: inputs.iter().map(|t| shape_of(t.shape())).collect(),
        output_shape: shape_of(output.shape()),
        op,
        saved: Mutex::new(Saved {
            inputs: saved_inputs,
            output: saved_output,
            versions,
            freed: false,
        }),
        retained: Mutex::new(None),
    };
    Tensor::from_parts(output, Some(Arc::new(node)), true)
}

fn edge_to<T: Element>(t: &Tensor<T>) -> Edge<T> {
    match &t.0.grad_fn {
        Some(node) => Edge::Node(Arc::clone(node)),
        None if t.requires_grad() => Edge::Leaf(t.clone()),
        None => Edge::Constant,
    }
}

impl<T: Element> Node<T> {
    pub(crate) fn retain_grad_of(&self, t: &Tensor<T>) {
        *lock(&self.retained) = Some(Arc::downgrade(&t.0));
    }
}

impl<T: Float> Node<T> {
    /// Runs this node's chain rule on the gradient of its output, then frees the saved
    /// values unless `retain_graph`.
    fn input_grads(
        &self,
        grad: &Array<T>,
        retain_graph: bool,
    ) -> Result<SmallVec<[Option<Array<T>>; 3]>> {
        let mut saved = lock(&self.saved);
        let name = self.op.name();
        if saved.freed && self.op.saves() != Saves::NOTHING {
            return Err(Error::autograd(
                "backward",
                format!(
                    "trying to backward through the graph a second time: the values saved by {name} were freed \
                     by the first backward; call backward_with(true) (retain_graph) the first time"
                ),
            ));
        }
        let current = saved
            .inputs
            .iter()
            .flatten()
            .chain(&saved.output)
            .map(Array::version);
        if let Some((now, then)) = current
            .zip(&saved.versions)
            .find(|(now, then)| now != *then)
        {
            return Err(Error::autograd(
                "backward",
                format!(
                    "a value needed by the gradient of {name} was modified by an in-place operation \
                     (it is at version {now}, the graph saved version {then})"
                ),
            ));
        }
        let needs: SmallVec<[bool; 3]> = self
            .inputs
            .iter()
            .map(|e| !matches!(e, Edge::Constant))
            .collect();
        let rule = Rule {
            inputs: &saved.inputs,
            output: saved.output.as_ref(),
            shapes: &self.input_shapes,
            needs: &needs,
        };
        let grads = self.op.input_grads(&rule, grad);
        if !retain_graph {
            saved.inputs.clear();
            saved.output = None;
            saved.freed = true;
        }
        Ok(grads)
    }
}

/// Dropping a graph must not recurse once per node: a chain of a million ops (an
/// accumulation like `total = &total + &x` in a loop) would overflow the stack. A node
/// being dropped hands the inputs that only it still holds to a work list instead, and
/// each of those is emptied the same way before it is freed.
impl<T: Element> Drop for Node<T> {
    fn drop(&mut self) {
        let mut orphans: SmallVec<[Arc<Node<T>>; 8]> = SmallVec::new();
        take_last_handles(&mut self.inputs, &mut orphans);
        while let Some(node) = orphans.pop() {
            if let Ok(mut node) = Arc::try_unwrap(node) {
                take_last_handles(&mut node.inputs, &mut orphans);
            }
        }
    }
}

/// Moves out the input nodes this edge list holds the last handle to.
fn take_last_handles<T: Element>(
    inputs: &mut SmallVec<[Edge<T>; 3]>,
    into: &mut SmallVec<[Arc<Node<T>>; 8]>,
) {
    for edge in inputs.iter_mut() {
        if matches!(edge, Edge::Node(n) if Arc::strong_count(n) == 1) {
            if let Edge::Node(n) = std::mem::replace(edge, Edge::Constant) {
                into.push(n);
            }
        }
    }
}

impl<T: Element> Value<T> for Array<T> {
    fn dims(&self) -> &[usize] {
        self.shape()
    }

    fn try_view_op(&self, view: View) -> Result<Self> {
        view.apply(self)
    }

    fn try_apply(op: Op<T>, inputs: &[&Self]) -> Result<Self>
    where
        T: Float,
    {
        op.eval(inputs)
    }

    fn is_column_major(&self) -> bool {
        let l = self.layout();
        l.shape.len() == 2
            && l.shape[0] > 1
            && l.shape[1] > 1
            && l.strides[0] == 1
            && l.strides[1] == l.shape[0]
    }
}

/// A gradient waiting for its node; ordered by the node's `seq` for the max-heap.
struct Pending<T: Float> {
    node: Arc<Node<T>>,
    grad: Array<T>,
}

impl<T: Float> PartialEq for Pending<T> {
    fn eq(&self, other: &Self) -> bool {
        self.node.seq == other.node.seq
    }
}
impl<T: Float> Eq for Pending<T> {}
impl<T: Float> PartialOrd for Pending<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T: Float> Ord for Pending<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.node.seq.cmp(&other.node.seq)
    }
}

/// Non-leaf tensors that asked for their gradient (`retain_grad`), with it.
type Retained<T> = SmallVec<[(Arc<TensorImpl<T>>, Array<T>); 1]>;

/// Backpropagates `grad` (the gradient of `root`) to every leaf that requires grad.
pub(crate) fn backward<T: Float>(
    root: &Tensor<T>,
    grad: Array<T>,
    retain_graph: bool,
) -> Result<()> {
    let Some(root_node) = &root.0.grad_fn else {
        if root.requires_grad() {
            accumulate_grad(&root.0, grad);
            return Ok(());
        }
        return Err(Error::autograd(
            "backward",
            "the tensor does not require grad and has no grad_fn (was it made under no_grad, or from \
             tensors without requires_grad_(true)?)",
        ));
    };
    // A chain (each node feeding one other, the usual loss) never needs the heap: the one
    // pending node waits in `next`, and the heap (which allocates) is used only once two
    // nodes are pending at the same time.
    let mut heap = BinaryHeap::new();
    let mut next = Some(Pending {
        node: Arc::clone(root_node),
        grad,
    });
    // No gradient is added anywhere until every rule has run: after an error (a saved
    // value that was modified in place, a graph already freed) every `.grad` is as it
    // was. So leaves' gradients wait here, by node (kept in `walked`) and input position.
    let mut walked: SmallVec<[Arc<Node<T>>; 8]> = SmallVec::new();
    let mut leaf_grads: SmallVec<[(usize, usize, Array<T>); 4]> = SmallVec::new();
    let mut retained: Retained<T> = SmallVec::new();
    while let Some(Pending { node, mut grad }) = next.take().or_else(|| heap.pop()) {
        // Every consumer of `node` has a larger seq and has run: its gradient is complete.
        while heap.peek().is_some_and(|p| Arc::ptr_eq(&p.node, &node)) {
            let more = heap.pop().expect("peeked").grad;
            grad = add_arrays(&grad, &more);
        }
        if let Some(target) = lock(&node.retained).as_ref().and_then(Weak::upgrade) {
            retained.push((target, grad.clone()));
        }
        let grads = node.input_grads(&grad, retain_graph)?;
        for (position, (edge, g)) in node.inputs.iter().zip(grads).enumerate() {
            match (edge, g) {
                (Edge::Leaf(_), Some(g)) => leaf_grads.push((walked.len(), position, g)),
                (Edge::Node(n), Some(g)) => {
                    let pending = Pending {
                        node: Arc::clone(n),
                        grad: g,
                    };
                    if heap.is_empty() && next.is_none() {
                        next = Some(pending);
                    } else {
                        heap.extend(next.take());
                        heap.push(pending);
                    }
                }
                _ => {}
            }
        }
        walked.push(node);
    }
    for (at, position, g) in leaf_grads {
        if let Edge::Leaf(t) = &walked[at].inputs[position] {
            accumulate_grad(&t.0, g);
        }
    }
    for (target, g) in retained {
        accumulate_grad(&target, g);
    }
    Ok(())
}

fn add_arrays<T: Float>(a: &Array<T>, b: &Array<T>) -> Array<T> {
    Array::apply(Add, &[a, b])
}

/// `t.grad += g`, in place once a gradient buffer exists (so steady-state training does not
/// allocate one per step). A new buffer is always private and contiguous, never a view of
/// a value that someone else still holds.
fn accumulate_grad<T: Float>(t: &TensorImpl<T>, g: Array<T>) {
    let mut slot = lock(&t.grad);
    match slot.as_ref() {
        Some(existing) if existing.shape() == g.shape() => {
            array::apply_inplace(existing.array(), &g, |a, b| a + b);
        }
        _ => {
            let owned = if g.is_contiguous() && g.is_unique() && g.read().len() == g.numel() {
                g
            } else {
                g.private_copy()
            };
            *slot = Some(Tensor::from_array(owned));
        }
    }
}

pub(crate) fn lock<V>(m: &Mutex<V>) -> std::sync::MutexGuard<'_, V> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
