//! `backward`: walking the tape back from a root, each node's chain rule run once all of
//! its output's gradient has arrived, and the leaves' gradients accumulated.

use super::tape::{lock, Edge, Grad, Node};
use crate::array::{self, Array};
use crate::element::Float;
use crate::error::{Error, Result};
use crate::tensor::{Tensor, TensorImpl};
use smallvec::SmallVec;
use std::cell::RefCell;
use std::collections::BinaryHeap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

/// A gradient waiting for its node; ordered by the node's `seq` for the max-heap. The node
/// is borrowed from the graph, which the walk's roots keep alive: no reference count is
/// touched (two locked instructions per edge).
struct Pending<'a, T: Float, G> {
    node: &'a Arc<Node<T>>,
    grad: G,
}

impl<T: Float, G> PartialEq for Pending<'_, T, G> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(self.node, other.node)
    }
}
impl<T: Float, G> Eq for Pending<'_, T, G> {}
impl<T: Float, G> PartialOrd for Pending<'_, T, G> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T: Float, G> Ord for Pending<'_, T, G> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // The address breaks a tie of numbers (threads whose tags wrapped around), so
        // every entry for one node pops in one run.
        let key = |p: &Self| (p.node.seq, Arc::as_ptr(p.node) as usize);
        key(self).cmp(&key(other))
    }
}

/// What a backward walk found: the gradients of leaves and of tensors that asked for
/// theirs (`retain_grad`) when accumulating, or of the asked-for tensors when capturing.
pub(crate) struct Walked<T: Float, G> {
    pub(crate) leaves: SmallVec<[(Tensor<T>, G); 4]>,
    pub(crate) retained: SmallVec<[(Arc<TensorImpl<T>>, G); 1]>,
    pub(crate) captured: Vec<Option<G>>,
}

/// Walks the graph back from `roots` (each with its gradient), running every chain rule
/// once all of its output's gradient has arrived. With `capture`, it returns the gradients
/// of those tensors instead of the leaves' (as `torch.autograd.grad`). Nothing is changed
/// outside the graph's saved values: the caller applies the result.
pub(crate) fn walk<T: Float, G: Grad<T>>(
    roots: impl IntoIterator<Item = (Tensor<T>, G)>,
    retain_graph: bool,
    capture: Option<&[&Tensor<T>]>,
) -> Result<Walked<T, G>> {
    let mut found = Walked {
        leaves: SmallVec::new(),
        retained: SmallVec::new(),
        captured: vec![None; capture.map_or(0, <[_]>::len)],
    };
    let (roots, grads): (Vec<Tensor<T>>, Vec<G>) = roots.into_iter().unzip();
    walk_into(
        &mut found,
        roots.iter().zip(grads),
        retain_graph,
        capture.unwrap_or(&[]),
    )?;
    Ok(found)
}

/// [`walk`], filling `found` in place (the plain `backward` keeps it on its own stack
/// rather than having a few hundred bytes of gradients moved back to it).
fn walk_into<'a, T: Float, G: Grad<T>>(
    found: &mut Walked<T, G>,
    roots: impl IntoIterator<Item = (&'a Tensor<T>, G)>,
    retain_graph: bool,
    capture: &[&Tensor<T>],
) -> Result<()> {
    let add_to = |slot: &mut Option<G>, g: G| {
        *slot = Some(match slot.take() {
            Some(acc) => G::plus(&acc, &g),
            None => g,
        });
    };
    // A chain (each node feeding one other, the usual loss) never needs the heap: the one
    // pending node waits in `next`, and the heap (which allocates) is used only once two
    // nodes are pending at the same time.
    let mut heap = BinaryHeap::new();
    let mut next = None;
    let grads = RefCell::new(SmallVec::new());
    for (root, grad) in roots {
        match &root.0.grad_fn {
            Some(node) => {
                let pending = Pending { node, grad };
                if next.is_none() {
                    next = Some(pending);
                } else {
                    heap.push(pending);
                }
            }
            None => leaf_gradient(found, capture, root.clone(), grad),
        }
    }
    while let Some(Pending { node, mut grad }) = next.take().or_else(|| heap.pop()) {
        // Every consumer of `node` has a larger seq and has run: its gradient is complete.
        while heap.peek().is_some_and(|p| Arc::ptr_eq(p.node, node)) {
            let more = heap.pop().expect("peeked").grad;
            grad = G::plus(&grad, &more);
        }
        let (retained, hooks) = if node.has_extras.load(Ordering::Acquire) {
            let extras = lock(&node.extras);
            let hooks = super::hooks::any().then(|| extras.hooks.clone()).flatten();
            (extras.retained.as_ref().and_then(Weak::upgrade), hooks)
        } else {
            (None, None)
        };
        if let Some(hooks) = hooks {
            grad = hooks.run(grad)?;
        }
        if capture.is_empty() {
            if let Some(target) = retained {
                found.retained.push((target, grad.clone()));
            }
        } else {
            for (i, t) in capture.iter().enumerate() {
                if t.0.grad_fn.as_ref().is_some_and(|n| Arc::ptr_eq(n, node)) {
                    add_to(&mut found.captured[i], grad.clone());
                }
            }
        }
        node.input_grads(&grad, retain_graph, &grads)?;
        for (edge, g) in node.inputs.iter().zip(grads.borrow_mut().drain(..)) {
            match (edge, g) {
                (Edge::Leaf(t), Some(g)) => leaf_gradient(found, capture, t.clone(), g),
                (Edge::Node(n), Some(g)) => {
                    let pending = Pending { node: n, grad: g };
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
    }
    // A leaf's hooks see its whole gradient, summed over every use.
    if super::hooks::any() && found.leaves.iter().any(|(t, _)| lock(&t.0.hooks).is_some()) {
        let mut summed: SmallVec<[(Tensor<T>, G); 4]> = SmallVec::new();
        for (t, g) in found.leaves.drain(..) {
            match summed.iter_mut().find(|(s, _)| Arc::ptr_eq(&s.0, &t.0)) {
                Some((_, acc)) => *acc = G::plus(acc, &g),
                None => summed.push((t, g)),
            }
        }
        for (t, g) in summed.iter_mut() {
            if let Some(hooks) = super::hooks::of(&t.0.hooks) {
                *g = hooks.run(g.clone())?;
            }
        }
        found.leaves = summed;
    }
    for (t, g) in capture.iter().zip(found.captured.iter_mut()) {
        if let (None, Some(grad)) = (&t.0.grad_fn, g.as_mut()) {
            let Some(hooks) = super::hooks::of(&t.0.hooks) else {
                continue;
            };
            *grad = hooks.run(grad.clone())?;
        }
    }
    Ok(())
}

/// Records the gradient `g` arriving at leaf `t`: kept for accumulation, or captured if `t`
/// is one of the tensors asked for.
fn leaf_gradient<T: Float, G: Grad<T>>(
    found: &mut Walked<T, G>,
    capture: &[&Tensor<T>],
    t: Tensor<T>,
    g: G,
) {
    if capture.is_empty() {
        found.leaves.push((t, g));
        return;
    }
    for (i, c) in capture.iter().enumerate() {
        if Arc::ptr_eq(&c.0, &t.0) {
            let slot = &mut found.captured[i];
            *slot = Some(match slot.take() {
                Some(acc) => G::plus(&acc, &g),
                None => g.clone(),
            });
        }
    }
}

/// Backpropagates `grad` (the gradient of `root`) into every leaf's `.grad`, like
/// `loss.backward()`; with `create_graph`, the gradients record their own graph.
pub(crate) fn backward<T: Float>(
    root: &Tensor<T>,
    grad: Array<T>,
    retain_graph: bool,
    create_graph: bool,
) -> Result<()> {
    if root.0.grad_fn.is_none() && !root.requires_grad() {
        return Err(Error::autograd(
            "backward",
            "the tensor does not require grad and has no grad_fn (was it made under no_grad, or from \
             tensors without requires_grad_(true)?)",
        ));
    }
    // No gradient is added anywhere until every rule has run: after an error (a saved
    // value that was modified in place, a graph already freed) every `.grad` is as it was.
    if create_graph {
        let _recording = super::grad_mode::enable_grad_guard();
        let found = walk(
            vec![(root.clone(), Tensor::from_array(grad))],
            retain_graph,
            None,
        )?;
        for (t, g) in found.leaves {
            accumulate_graph_grad(&t.0, g);
        }
        for (target, g) in found.retained {
            accumulate_graph_grad(&target, g);
        }
    } else {
        let mut found = Walked {
            leaves: SmallVec::new(),
            retained: SmallVec::new(),
            captured: Vec::new(),
        };
        walk_into(&mut found, [(root, grad)], retain_graph, &[])?;
        for (t, g) in found.leaves.drain(..) {
            accumulate_grad(&t.0, g);
        }
        for (target, g) in found.retained.drain(..) {
            accumulate_grad(&target, g);
        }
    }
    Ok(())
}

/// `t.grad = t.grad + g` as recorded ops, so the accumulated gradient keeps its graph
/// (`create_graph`), as PyTorch does.
fn accumulate_graph_grad<T: Float>(t: &TensorImpl<T>, g: Tensor<T>) {
    let mut slot = lock(&t.grad);
    let total = match slot.take() {
        Some(existing) if crate::shape::same(existing.shape(), g.shape()) => {
            Tensor::plus(&existing, &g)
        }
        _ => g,
    };
    *slot = Some(total);
}

/// `t.grad += g`, in place once a gradient buffer exists (so steady-state training does not
/// allocate one per step). A new buffer is always private and contiguous, never a view of
/// a value that someone else still holds.
fn accumulate_grad<T: Float>(t: &TensorImpl<T>, g: Array<T>) {
    let mut slot = lock(&t.grad);
    match slot.as_ref() {
        Some(existing) if crate::shape::same(existing.shape(), g.shape()) => {
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
