//! The tape: recording nodes as ops run (the walk back is `walk.rs`).
//!
//! There is no global tape. A tensor made by a recorded op owns an `Arc<Node>`; the node
//! owns edges to the nodes (or leaf tensors) of its inputs. The graph therefore lives
//! exactly as long as something that can reach it: drop a step's loss and intermediates
//! and the whole step's graph is freed, so a training loop runs in flat memory.

use super::grad_mode::is_grad_enabled;
use super::hooks::Hooks;
use super::node_ref::NodeRef;
use super::seq;
use crate::array::Array;
use crate::element::{Element, Float};
use crate::error::{Error, Result};
use crate::ops::{Add, InputGrads, Op, Rule, Saves, Value, View};
use crate::shape::{shape_of, Shape};
use crate::slots;
use crate::tensor::{Tensor, TensorImpl};
use smallvec::SmallVec;
use std::cell::RefCell;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

/// One recorded op application.
pub(crate) struct Node<T: Element> {
    pub(crate) seq: u64,
    pub(crate) op: Op<T>,
    pub(crate) inputs: SmallVec<[Edge<T>; 3]>,
    pub(crate) input_shapes: SmallVec<[Shape; 3]>,
    pub(crate) output_shape: Shape,
    saved: Mutex<Saved<T>>,
    /// What the tensor this node made rarely asks for: `retain_grad`, `register_hook`.
    /// Reached through [`Node::extras`], which sets `has_extras`.
    pub(super) extras: Mutex<Extras<T>>,
    /// Set once `extras` is first written: until then the backward walk skips its lock
    /// (two locked instructions per node).
    pub(super) has_extras: AtomicBool,
    /// Where the user's code called the op, noted in anomaly mode only.
    site: Option<&'static Location<'static>>,
}

/// A node's rarely used parts, behind one lock.
pub(crate) struct Extras<T: Element> {
    /// Set by `retain_grad`: the (non-leaf) tensor that wants this node's gradient kept.
    pub(super) retained: Option<Weak<TensorImpl<T>>>,
    /// Hooks registered on the (non-leaf) tensor this node made.
    pub(crate) hooks: Option<Hooks<T>>,
}

/// Where an input's gradient goes.
pub(crate) enum Edge<T: Element> {
    /// The input does not require grad.
    Constant,
    /// A leaf that requires grad: its `.grad()` accumulates.
    Leaf(Tensor<T>),
    /// The output of another recorded op.
    Node(NodeRef<T>),
}

/// The values backward needs, with the storage version each had when it was saved.
struct Saved<T: Element> {
    /// Every input, or none (an op that saves no inputs, or a graph freed by backward).
    inputs: SmallVec<[Array<T>; 3]>,
    output: Option<Array<T>>,
    versions: SmallVec<[u64; 3]>,
    freed: bool,
}

/// Whether an op on `inputs` is recorded now: gradients are enabled and an input needs one.
/// Callers ask first, so an op that is not recorded is never moved (its 150-odd bytes
/// copied) on its way to being dropped.
#[inline]
pub(crate) fn records<T: Element>(inputs: &[&Tensor<T>]) -> bool {
    is_grad_enabled() && inputs.iter().any(|t| t.requires_grad())
}

/// Finishes `handle` (its array written) as a tensor made by `op`, recorded on the tape: for
/// when [`records`] said yes (only float tensors can require grad).
pub(crate) fn record<T: Element>(
    op: Op<T>,
    inputs: &[&Tensor<T>],
    handle: crate::tensor::handle::Written<T>,
) -> Tensor<T> {
    let output = handle.array();
    let Saves {
        inputs: save_inputs,
        output: save_output,
    } = op.saves();
    // The node is written field by field straight into its `Arc`'s allocation: built on
    // the stack first, its 800-odd bytes were copied two or three times on the way in
    // (into the `Mutex`, the node, the `Arc`), the largest cost of recording an op.
    let mut node = slots::nodes::take::<T>();
    let slot = crate::unique::unique_mut(&mut node)
        .expect("a new Arc has no other handle")
        .as_mut_ptr();
    // SAFETY: `slot` points at the new allocation, which nothing else can see. Every field
    // is written exactly once below (the collections empty first, then filled where they
    // lie), before `assume_init`; a panic in between only leaks the allocation.
    unsafe {
        use std::ptr::addr_of_mut;
        let after = inputs
            .iter()
            .filter_map(|t| t.0.grad_fn.as_ref().map(|n| n.seq))
            .max();
        addr_of_mut!((*slot).seq).write(seq::next(after.unwrap_or(0)));
        addr_of_mut!((*slot).op).write(op);
        let edges = addr_of_mut!((*slot).inputs);
        edges.write(SmallVec::new());
        let shapes = addr_of_mut!((*slot).input_shapes);
        shapes.write(SmallVec::new());
        for t in inputs {
            (*edges).push(edge_to(t));
            (*shapes).push(shape_of(t.shape()));
        }
        addr_of_mut!((*slot).output_shape).write(shape_of(output.shape()));
        let saved = addr_of_mut!((*slot).saved);
        saved.write(Mutex::new(Saved {
            inputs: SmallVec::new(),
            output: None,
            versions: SmallVec::new(),
            freed: false,
        }));
        let saved = (*saved).get_mut().unwrap_or_else(PoisonError::into_inner);
        if save_inputs {
            saved.inputs.reserve_exact(inputs.len());
            for (k, t) in inputs.iter().enumerate() {
                saved.versions.push(t.array().version());
                // Written where it stays (see `Array::clone_to`): the room was reserved
                // above, and the length counts it only once it is whole.
                t.array().clone_to(saved.inputs.as_mut_ptr().add(k));
                saved.inputs.set_len(k + 1);
            }
        }
        if save_output {
            saved.versions.push(output.version());
            saved.output = Some(output.clone());
        }
        addr_of_mut!((*slot).extras).write(Mutex::new(Extras {
            retained: None,
            hooks: None,
        }));
        addr_of_mut!((*slot).has_extras).write(AtomicBool::new(false));
        addr_of_mut!((*slot).site).write(super::anomaly::site());
    }
    // SAFETY: every field was written above.
    let node = NodeRef::new(unsafe { slots::filled(node) });
    Tensor(std::mem::ManuallyDrop::new(handle.finish(Some(node), true)))
}

fn edge_to<T: Element>(t: &Tensor<T>) -> Edge<T> {
    match &t.0.grad_fn {
        Some(node) => Edge::Node(node.clone()),
        None if t.requires_grad() => Edge::Leaf(t.clone()),
        None => Edge::Constant,
    }
}

impl<T: Element> Node<T> {
    pub(crate) fn retain_grad_of(&self, t: &Tensor<T>) {
        self.extras().retained = Some(Arc::downgrade(&t.0));
    }

    /// The node's rarely used parts, locked, for writing.
    pub(crate) fn extras(&self) -> std::sync::MutexGuard<'_, Extras<T>> {
        self.has_extras.store(true, Ordering::Release);
        lock(&self.extras)
    }
}

impl<T: Float> Node<T> {
    /// Runs this node's chain rule on the gradient of its output into `grads` (empty),
    /// then frees the saved values unless `retain_graph`. With `G = Tensor` the rule
    /// records its own ops (`create_graph`), reading the saved values as tensors still
    /// wired into the graph. The rule writes the gradients straight into the caller's
    /// vector (see [`Rule::grads`]).
    pub(super) fn input_grads<G: Grad<T>>(
        self: &Arc<Self>,
        grad: &G,
        retain_graph: bool,
        grads: &RefCell<InputGrads<G>>,
    ) -> Result<()> {
        let mut saved = lock(&self.saved);
        // Named only for an error: `Op::name` is a match over every op.
        let name = || self.op.name();
        if saved.freed && self.op.saves() != Saves::NOTHING {
            let name = name();
            return Err(Error::autograd(
                "backward",
                format!(
                    "trying to backward through the graph a second time: the values saved by {name} were freed \
                     by the first backward; call backward_with(true) (retain_graph) the first time"
                ),
            ));
        }
        let current = saved.inputs.iter().chain(&saved.output).map(Array::version);
        if let Some((now, then)) = current
            .zip(&saved.versions)
            .find(|(now, then)| now != *then)
        {
            let name = name();
            return Err(Error::autograd(
                "backward",
                format!(
                    "a value needed by the gradient of {name} was modified by an in-place operation \
                     (it is at version {now}, the graph saved version {then})"
                ),
            ));
        }
        // Which inputs want a gradient, written where it stays: a collection built and
        // then moved here was read back before its length's store had landed, a
        // store-forwarding stall per node (perf, W3).
        let mut few = [false; 4];
        let many: Vec<bool>;
        let wants = |e: &Edge<T>| !matches!(e, Edge::Constant);
        let needs: &[bool] = if self.inputs.len() <= few.len() {
            for (n, e) in few.iter_mut().zip(&self.inputs) {
                *n = wants(e);
            }
            &few[..self.inputs.len()]
        } else {
            many = self.inputs.iter().map(wants).collect();
            &many
        };
        if self.op.lacks_derivative() && needs.contains(&true) {
            return Err(not_differentiable(name()));
        }
        G::with_saved(
            self,
            &saved.inputs,
            saved.output.as_ref(),
            |inputs, output| {
                let rule = Rule {
                    inputs,
                    output,
                    shapes: &self.input_shapes,
                    needs,
                    grads,
                };
                self.op.input_grads(&rule, grad)
            },
        );
        if super::anomaly::is_anomaly_enabled() {
            self.check_finite(&grads.borrow())?;
        }
        if !retain_graph {
            saved.inputs.clear();
            saved.output = None;
            saved.freed = true;
        }
        Ok(())
    }
}

impl<T: Float> Node<T> {
    /// Anomaly mode: an error if a gradient this node's rule made holds a NaN or an
    /// infinity, naming the op and the line that called it.
    fn check_finite<G: Grad<T>>(&self, grads: &[Option<G>]) -> Result<()> {
        for (i, g) in grads.iter().enumerate() {
            let Some(g) = g else { continue };
            let bad = g.to_tensor().to_vec().into_iter().find(|v| !v.is_finite());
            if let Some(bad) = bad {
                let at = self.site.map_or(
                    "an unknown place (recorded outside anomaly mode)".to_string(),
                    |l| format!("{}:{}:{}", l.file(), l.line(), l.column()),
                );
                return Err(Error::autograd(
                    "backward",
                    format!(
                        "anomaly: the backward of {} made {bad} in the gradient of its input {i}; \
                         the forward {} was called at {at}",
                        super::backward_name(self.op.name()),
                        self.op.name()
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The error for differentiating through a helper whose derivative is not written.
pub(crate) fn not_differentiable(name: &str) -> Error {
    Error::autograd(
        "backward",
        format!(
            "the derivative of {name} is not implemented: it is part of a chain rule, so this \
             is a derivative of second order that tapegrad does not have for that op"
        ),
    )
}

/// What a backward walk carries: plain arrays (the usual walk, recording nothing) or
/// tensors that record their own ops (`create_graph`), so a gradient can be
/// differentiated again.
pub(crate) trait Grad<T: Float>: Value<T> {
    /// Calls `f` with `node`'s saved inputs and output as values of this type.
    fn with_saved<R>(
        node: &Arc<Node<T>>,
        inputs: &[Array<T>],
        output: Option<&Array<T>>,
        f: impl FnOnce(&[Self], Option<&Self>) -> R,
    ) -> R;
    fn plus(a: &Self, b: &Self) -> Self;
    fn to_tensor(&self) -> Tensor<T>;
    fn from_tensor(t: Tensor<T>) -> Self;
}

impl<T: Float> Grad<T> for Array<T> {
    fn with_saved<R>(
        _: &Arc<Node<T>>,
        inputs: &[Array<T>],
        output: Option<&Array<T>>,
        f: impl FnOnce(&[Self], Option<&Self>) -> R,
    ) -> R {
        f(inputs, output)
    }
    fn plus(a: &Self, b: &Self) -> Self {
        Array::apply(Add, &[a, b])
    }
    fn to_tensor(&self) -> Tensor<T> {
        Tensor::from_array(self.clone())
    }
    fn from_tensor(t: Tensor<T>) -> Self {
        t.array().clone()
    }
}

impl<T: Float> Grad<T> for Tensor<T> {
    /// A saved input becomes the tensor it was, wired to the node (or leaf) that made it;
    /// the saved output, a tensor made by `node` itself. So the ops a chain rule applies to
    /// them are differentiable with respect to the forward's inputs.
    fn with_saved<R>(
        node: &Arc<Node<T>>,
        inputs: &[Array<T>],
        output: Option<&Array<T>>,
        f: impl FnOnce(&[Self], Option<&Self>) -> R,
    ) -> R {
        let inputs: SmallVec<[Tensor<T>; 3]> = inputs
            .iter()
            .zip(&node.inputs)
            .map(|(a, edge)| match edge {
                Edge::Constant => Tensor::from_array(a.clone()),
                Edge::Leaf(t) => t.clone(),
                Edge::Node(n) => Tensor::from_parts(a.clone(), Some(n.clone()), true),
            })
            .collect();
        let output =
            output.map(|a| Tensor::from_parts(a.clone(), Some(NodeRef::share(node)), true));
        f(&inputs, output.as_ref())
    }
    fn plus(a: &Self, b: &Self) -> Self {
        Tensor::apply(Add.into(), &[a, b]).expect("gradients of one tensor have its shape")
    }
    fn to_tensor(&self) -> Tensor<T> {
        self.clone()
    }
    fn from_tensor(t: Tensor<T>) -> Self {
        t
    }
}

/// Dropping a graph must not recurse once per node: a chain of a million ops (an
/// accumulation like `total = &total + &x` in a loop) would overflow the stack. A node
/// being dropped hands the inputs that only it still holds to a work list instead, and
/// each of those is emptied the same way before it is freed.
impl<T: Element> Drop for Node<T> {
    fn drop(&mut self) {
        let mut orphans: SmallVec<[NodeRef<T>; 8]> = SmallVec::new();
        take_last_handles(&mut self.inputs, &mut orphans);
        while let Some(mut node) = orphans.pop() {
            // Emptied in place (no `Weak` handles to nodes exist, so the last strong one
            // gets `&mut`); moving the node out of its `Arc` would copy all of it.
            if let Some(node) = node.unique_mut() {
                take_last_handles(&mut node.inputs, &mut orphans);
            }
        }
    }
}

/// Moves out the input nodes this edge list holds the last handle to.
fn take_last_handles<T: Element>(
    inputs: &mut SmallVec<[Edge<T>; 3]>,
    into: &mut SmallVec<[NodeRef<T>; 8]>,
) {
    for edge in inputs.iter_mut() {
        if matches!(edge, Edge::Node(n) if Arc::strong_count(n) == 1)
            && let Edge::Node(n) = std::mem::replace(edge, Edge::Constant)
        {
            into.push(n);
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

    fn op_grads(op: &Op<T>, rule: &crate::ops::Rule<'_, Self>, g: &Self) -> crate::ops::Written
    where
        T: Float,
    {
        T::array_grads(op, rule, g)
    }

    fn try_apply(op: Op<T>, inputs: &[&Self]) -> Result<Self>
    where
        T: Float,
    {
        op.eval(inputs)
    }

    fn matmul_swapped(a: (&Self, bool), b: (&Self, bool)) -> Self
    where
        T: Float,
    {
        // As `Value::apply` of the views would: an allocation refused is an error, and an
        // error here is a bug.
        let product = || crate::array::matmul_swapped("matmul", a, b);
        match crate::array::catching_alloc_failure(|| "matmul", product) {
            Ok(value) => value,
            Err(e) => panic!("a gradient rule built an inconsistent op (a tapegrad bug): {e}"),
        }
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

pub(crate) fn lock<V>(m: &Mutex<V>) -> std::sync::MutexGuard<'_, V> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
