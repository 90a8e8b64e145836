//! `Session`: runs a graph's nodes for a set of fetches, given the placeholders' values.

use super::{Graph, GraphInner, Kind, Node};
use crate::array::Array;
use crate::element::Float;
use crate::error::{Error, ErrorKind, Result};
use crate::tensor::Tensor;
use smallvec::SmallVec;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Runs a [`Graph`], like `tf.Session`: `run(fetches, feeds)` evaluates what the fetches
/// need — nothing more — and returns their values. The order of evaluation for a given
/// set of fetches and fed nodes is worked out once and kept.
///
/// ```
/// use tapegrad::graph::{Graph, Session};
/// use tapegrad::Tensor;
/// let g = Graph::<f32>::new();
/// let x = g.placeholder("x", &[2]);
/// let sess = Session::new(&g);
/// assert!(sess.run(&[&x.exp()], &[]).is_err()); // x was not fed
/// let out = sess.run(&[&(&x * 2.0)], &[(&x, &Tensor::ones(&[2]))]).unwrap();
/// assert_eq!(out[0].to_vec(), vec![2.0, 2.0]);
/// ```
pub struct Session<T: Float = f32> {
    graph: Arc<GraphInner<T>>,
    state: Mutex<State<T>>,
}

struct State<T: Float> {
    /// The plan for each (fetches, fed nodes) key, with when it was last used: at most
    /// [`PLANS_KEPT`], the least recently used going first.
    plans: HashMap<Vec<usize>, (Plan, u64)>,
    /// Counts runs, to know which plan was used least recently.
    runs: u64,
    /// One slot per node, reused across runs.
    values: Vec<Option<Array<T>>>,
    key: Vec<usize>,
}

/// What a run does for one set of fetches and fed nodes, worked out once.
struct Plan {
    /// The nodes to evaluate, in increasing id order (a topological order).
    order: Vec<usize>,
    /// For each step of `order`, the values no later step needs (and no fetch returns):
    /// dropped right after that step, so their buffers return to the pool and the next
    /// outputs of the same size reuse them.
    release_after: Vec<SmallVec<[usize; 2]>>,
}

/// Plans kept per session. A training loop reuses one or two; a program that fetches
/// ever new sets of nodes would otherwise grow the cache without end.
const PLANS_KEPT: usize = 64;

fn graph_error(message: String) -> Error {
    Error::new(ErrorKind::Graph, "run", message)
}

impl<T: Float> Session<T> {
    /// A session for `graph` (it sees nodes added later too).
    ///
    /// ```
    /// use tapegrad::graph::{Graph, Session};
    /// let g = Graph::<f32>::new();
    /// let sess = Session::new(&g);
    /// let c = g.constant(&tapegrad::Tensor::ones(&[1])); // added after the session
    /// assert_eq!(sess.run(&[&c], &[]).unwrap()[0].item(), 1.0);
    /// ```
    pub fn new(graph: &Graph<T>) -> Self {
        Session {
            graph: Arc::clone(&graph.inner),
            state: Mutex::new(State {
                plans: HashMap::new(),
                runs: 0,
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
    ///
    /// ```
    /// use tapegrad::graph::{Graph, Session};
    /// use tapegrad::Tensor;
    /// let g = Graph::<f32>::new();
    /// let x = g.placeholder("x", &[2]);
    /// let out = Session::new(&g).run(&[&x.sum()], &[(&x, &Tensor::from_vec(vec![1.0, 2.0], &[2]))]).unwrap();
    /// assert_eq!(out[0].item(), 3.0);
    /// ```
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
        let State {
            plans,
            runs,
            values,
            key,
        } = &mut *state;
        key.clear();
        key.extend(fetches.iter().map(|n| n.id));
        key.push(usize::MAX);
        key.extend(feeds.iter().map(|(n, _)| n.id));
        *runs += 1;
        if !plans.contains_key(key.as_slice()) {
            // Planning checks every feed a fetch needs, so a run that would fail does so
            // before anything is evaluated (an `assign` included).
            let new_plan = plan(&nodes, fetches, feeds)?;
            if plans.len() >= PLANS_KEPT {
                let oldest = plans
                    .iter()
                    .min_by_key(|(_, (_, used))| *used)
                    .map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    plans.remove(&oldest);
                }
            }
            plans.insert(key.clone(), (new_plan, *runs));
        }
        let (plan, used) = plans
            .get_mut(key.as_slice())
            .expect("the plan was just made");
        *used = *runs;
        let plan = &*plan;
        if values.len() < nodes.len() {
            values.resize_with(nodes.len(), || None);
        }
        let result = evaluate(&nodes, plan, feeds, values);
        let outputs = result.map(|()| {
            fetches
                .iter()
                .map(|n| {
                    let value = values[n.id].as_ref().expect("fetched nodes are evaluated");
                    // A private copy: the caller may change it in place without touching
                    // a constant, a variable or a fed tensor.
                    Tensor::from_array(value.private_copy())
                })
                .collect()
        });
        for &id in plan.order.iter() {
            values[id] = None;
        }
        outputs
    }
}

impl<T: Float> Session<T> {
    /// How many run plans the session keeps (at most 64; the least recently used go).
    ///
    /// ```
    /// use tapegrad::graph::{Graph, Session};
    /// let g = Graph::<f32>::new();
    /// let c = g.constant(&tapegrad::Tensor::ones(&[1]));
    /// let sess = Session::new(&g);
    /// sess.run(&[&c], &[]).unwrap();
    /// assert_eq!(sess.cached_plans(), 1);
    /// ```
    pub fn cached_plans(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .plans
            .len()
    }
}

/// The nodes the fetches need, in increasing id order, and when each value dies. A fed
/// node is a source: what it is computed from is not needed.
fn plan<T: Float>(
    nodes: &[super::NodeDef<T>],
    fetches: &[&Node<T>],
    feeds: &[(&Node<T>, &Tensor<T>)],
) -> Result<Plan> {
    let is_fed = |id: usize| feeds.iter().any(|(n, _)| n.id == id);
    let inputs_of = |id: usize| -> SmallVec<[usize; 2]> {
        match &nodes[id].kind {
            _ if is_fed(id) => SmallVec::new(),
            Kind::Apply { inputs, .. } => inputs.clone(),
            Kind::Assign { variable, value } => SmallVec::from_slice(&[*variable, *value]),
            _ => SmallVec::new(),
        }
    };
    let mut needed = vec![false; nodes.len()];
    let mut stack: Vec<usize> = fetches.iter().map(|n| n.id).collect();
    while let Some(id) = stack.pop() {
        if !std::mem::replace(&mut needed[id], true) {
            stack.extend(inputs_of(id));
        }
    }
    let order: Vec<usize> = (0..nodes.len()).filter(|&id| needed[id]).collect();
    if let Some(name) = order.iter().find_map(|&id| match &nodes[id].kind {
        Kind::Placeholder(name) if !is_fed(id) => Some((name, id)),
        _ => None,
    }) {
        let (name, id) = name;
        return Err(graph_error(format!(
            "missing feed for placeholder '{name}' (shape {:?})",
            nodes[id].shape.as_slice()
        )));
    }
    // The last step that reads each value; fetched values live to the end.
    let mut last_use = vec![None; nodes.len()];
    for (step, &id) in order.iter().enumerate() {
        last_use[id] = Some(step);
        for input in inputs_of(id) {
            last_use[input] = Some(step);
        }
    }
    let mut release_after = vec![SmallVec::new(); order.len()];
    for &id in &order {
        if let Some(step) = last_use[id].filter(|_| !fetches.iter().any(|f| f.id == id)) {
            release_after[step].push(id);
        }
    }
    Ok(Plan {
        order,
        release_after,
    })
}

fn evaluate<T: Float>(
    nodes: &[super::NodeDef<T>],
    plan: &Plan,
    feeds: &[(&Node<T>, &Tensor<T>)],
    values: &mut [Option<Array<T>>],
) -> Result<()> {
    for (&id, dead) in plan.order.iter().zip(&plan.release_after) {
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
                let stored = new.private_copy();
                if let Kind::Variable { value, .. } = &nodes[*variable].kind {
                    *value.lock().unwrap_or_else(PoisonError::into_inner) = stored.clone();
                }
                stored
            }
        };
        values[id] = Some(value);
        for &done in dead {
            values[done] = None;
        }
    }
    Ok(())
}
