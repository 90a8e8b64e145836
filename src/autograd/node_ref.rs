//! `NodeRef`: the handle to a recorded tape node that tensors and edges hold.

use super::tape::Node;
use crate::element::Element;
use crate::slots;
use std::mem::ManuallyDrop;
use std::sync::Arc;

/// A handle to a recorded node: an `Arc` whose last drop keeps the node's allocation in
/// the thread's cache (`crate::slots`) for the next node recorded, instead of freeing it.
pub(crate) struct NodeRef<T: Element>(ManuallyDrop<Arc<Node<T>>>);

impl<T: Element> NodeRef<T> {
    /// The handle for a node just recorded.
    pub(super) fn new(node: Arc<Node<T>>) -> Self {
        NodeRef(ManuallyDrop::new(node))
    }

    /// The node, if this is its last handle (nodes have no `Weak` handles).
    pub(super) fn unique_mut(&mut self) -> Option<&mut Node<T>> {
        crate::unique::unique_mut(&mut self.0)
    }

    /// Another handle to the node `arc` points to.
    pub(crate) fn share(arc: &Arc<Node<T>>) -> Self {
        NodeRef::new(Arc::clone(arc))
    }
}

impl<T: Element> Clone for NodeRef<T> {
    fn clone(&self) -> Self {
        NodeRef::share(&self.0)
    }
}

impl<T: Element> std::ops::Deref for NodeRef<T> {
    type Target = Arc<Node<T>>;
    fn deref(&self) -> &Arc<Node<T>> {
        &self.0
    }
}

impl<T: Element> Drop for NodeRef<T> {
    fn drop(&mut self) {
        // SAFETY: the handle is not used again: this is its last moment.
        let arc = unsafe { ManuallyDrop::take(&mut self.0) };
        if let Some(slot) = slots::empty_last(arc) {
            slots::nodes::keep(slot);
        }
    }
}
