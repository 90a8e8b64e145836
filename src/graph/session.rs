//! `Session`: runs a graph's nodes for a set of fetches, given the placeholders' values.

use super::{Graph, GraphInner, Kind, Node};
use crate::array::Array;
use crate::error::{Error, ErrorKind, Result};
use crate::tensor::Tensor;
use num_traits::Float;
use smallvec::SmallVec;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Runs a [`Graph`], like `tf.Session`: `run(fetches, feeds)` evaluates what the fetches
/// need — nothing more — and returns their values. The order of evaluation for a given
/// set of fetches and fed nodes is worked out once and kept.
pub struct Session<T: Float = f32> {
    graph: Arc<GraphInner<T>>,
    state: Mutex<State<T>>,
}

struct State<T> {
    /// Evaluation order (increasing node id) for each (fetches, fed nodes) key.
    plans: HashMap<Vec<usize>, Vec<usize>>,
    /// One slot per node, reused across runs.
    values: Vec<Option<Array<T>>>,
    key: Vec<usize>,
}

fn graph_error(message: String) -> Error {
    Error::new(ErrorKind::Graph, "run", message)
}

impl<T: Float> Session<T> {
    /// A session for `graph` (it sees nodes added later too).
    pub fn new(graph: &Graph<T>) -> Self {
        Session {
            graph: Arc::clone(&graph.inner),
            state: Mutex::new(State {
                plans: HashMap::new(),
                values: Vec::new(),
                key: Vec::new(),
            }),
        }
    }

    /// Evaluates `fetches` with `feeds` giving the placeholders' values (any node may be
    /// fed, as in TensorFlow). Returns an error — never panics — for a node of another
    /// graph, a feed whose shape differs from its node's, or a placeholder that a fetch
    /// needs and nobody fed. (A feed of another float type cannot compile: `Session<T>`
    /// takes `Tensor<T>`.)
    pub fn run(
        &self,
        fetches: &[&Node<T>],
        feeds: &[(&Node<T>, &Tensor<T>)],
    ) -> Result<Vec<Tensor<T>>> {
        for (i, fetch) in fetches.iter().enumerate() {
            if !Arc::ptr_eq(&fetch.graph, &self.graph) {
                return Err(graph_error(format!(
                    "fetch {i} (node {}) belongs to another graph",
                    fetch.id
                )));
            }
        }
        let nodes = self
            .graph
            .nodes
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        for (node, value) in feeds {
            if !Arc::ptr_eq(&node.graph, &self.graph) {
                return Err(graph_error(format!(
                    "a feed's node (node {}) belongs to another graph",
                    node.id
                )));
            }
            if value.shape() != node.shape() {
                let name = match &nodes[node.id].kind {
                    Kind::Placeholder(name) | Kind::Variable { name, .. } => format!("'{name}'"),
                    _ => format!("node {}", node.id),
                };
                return Err(Error::shape(
                    "run",
                    format!(
                        "the feed for {name} has shape {:?}, but the node has shape {:?}",
                        value.shape(),
                        node.shape()
                    ),
                ));
            }
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let State { plans, values, key } = &mut *state;
        key.clear();
        key.extend(fetches.iter().map(|n| n.id));
        key.push(usize::MAX);
        key.extend(feeds.iter().map(|(n, _)| n.id));
        if !plans.contains_key(key.as_slice()) {
            let order = plan(&nodes, fetches, feeds);
            plans.insert(key.clone(), order);
        }
        let order = &plans[key.as_slice()];
        if values.len() < nodes.len() {
            values.resize_with(nodes.len(), || None);
        }
        let result = evaluate(&nodes, order, feeds, values);
        let outputs = result.map(|()| {
            fetches
                .iter()
                .map(|n| {
                    let value = values[n.id].as_ref().expect("fetched nodes are evaluated");
                    // A private copy: the caller may change it in place without touching
                    // a constant, a variable or a fed tensor.
                    Tensor::from_array(Array::from_vec(value.to_vec(), value.shape()))
                })
                .collect()
        });
        for &id in order.iter() {
            values[id] = None;
        }
        outputs
    }
}

/// The nodes the fetches need, in increasing id order (a topological order). A fed node
/// is a source: what it is computed from is not needed.
fn plan<T: Float>(
    nodes: &[super::NodeDef<T>],
    fetches: &[&Node<T>],
    feeds: &[(&Node<T>, &Tensor<T>)],
) -> Vec<usize> {
    let mut needed = vec![false; nodes.len()];
    let mut stack: Vec<usize> = fetches.iter().map(|n| n.id).collect();
    while let Some(id) = stack.pop() {
        if std::mem::replace(&mut needed[id], true) || feeds.iter().any(|(n, _)| n.id == id) {
            continue;
        }
        match &nodes[id].kind {
            Kind::Apply { inputs, .. } => stack.extend(inputs.iter().copied()),
            Kind::Assign { variable, value } => stack.extend([*variable, *value]),
            _ => {}
        }
    }
    (0..nodes.len()).filter(|&id| needed[id]).collect()
}

fn evaluate<T: Float>(
    nodes: &[super::NodeDef<T>],
    order: &[usize],
    feeds: &[(&Node<T>, &Tensor<T>)],
    values: &mut [Option<Array<T>>],
) -> Result<()> {
    for &id in order {
        if let Some((_, fed)) = feeds.iter().find(|(n, _)| n.id == id) {
            values[id] = Some(fed.array().clone());
            continue;
        }
        let value = match &nodes[id].kind {
            Kind::Placeholder(name) => {
                return Err(graph_error(format!(
                    "missing feed for placeholder '{name}' (shape {:?})",
                    nodes[id].shape.as_slice()
                )))
            }
            Kind::Constant(value) => value.clone(),
            Kind::Variable { value, .. } => {
                value.lock().unwrap_or_else(PoisonError::into_inner).clone()
            }
            Kind::Apply { op, inputs } => {
                let args: SmallVec<[&Array<T>; 2]> = inputs
                    .iter()
                    .map(|&i| values[i].as_ref().expect("inputs come first"))
                    .collect();
                op.eval(&args)?
            }
            Kind::Assign { variable, value } => {
                let new = values[*value].as_ref().expect("inputs come first");
                // The variable gets a private copy, so no fetched or fed array aliases it.
                let stored = Array::from_vec(new.to_vec(), new.shape());
                if let Kind::Variable { value, .. } = &nodes[*variable].kind {
                    *value.lock().unwrap_or_else(PoisonError::into_inner) = stored.clone();
                }
                stored
            }
        };
        values[id] = Some(value);
    }
    Ok(())
}
