//! `Session`: runs a graph's nodes for a set of fetches, given the placeholders' values.

use super::prepared::Prepared;
use super::program::{Planned, Program};
use super::{sizes, Graph, GraphInner, Kind, Node};
use crate::array::Array;
use crate::element::Float;
use crate::error::{Error, ErrorKind, Result};
use crate::tensor::Tensor;
use smallvec::SmallVec;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Runs a [`Graph`], like `tf.Session`: `run(fetches, feeds)` evaluates what the fetches
/// need — nothing more — and returns their values. The order of evaluation for a given
/// set of fetches and fed nodes is worked out once and kept: a flat list of steps, where
/// ops on constants alone (a gradient's seed, say) are computed once, when planning, and
/// the common ops of known shapes (elementwise ops, scalar ops, `pow`, `sum`, 2-D
/// products, transposes and expands) run prepared kernels, with no shape checks or
/// dispatch at run time. Each of those keeps its output buffer in the session between
/// runs and writes the next run's value into it, so a training loop allocates only the
/// tensors `run` returns; the session holds that memory (one buffer per prepared op)
/// until it is dropped. When a run is made of such kernels alone (with feeds, constants,
/// variables, assigns and the transposes its products read, as a training step's is),
/// it runs them as one list: each feed and variable read-locked once, the values the
/// kernels make read with no lock at all, and a transposed operand read through its
/// strides rather than made.
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
    /// The plan of the last run, with its key and that run's number: a training loop
    /// runs the same fetches every step, and finds its plan here without hashing.
    recent: Option<(Vec<usize>, Plan<T>, u64)>,
    /// The plan for each other (fetches, fed nodes) key, with when it was last used: at
    /// most [`PLANS_KEPT`] with `recent`, the least recently used going first.
    plans: HashMap<Vec<usize>, (Plan<T>, u64)>,
    /// Counts runs, to know which plan was used least recently.
    runs: u64,
    /// One slot per node, reused across runs.
    values: Vec<Option<Array<T>>>,
    key: Vec<usize>,
}

/// What a run does for one set of fetches and fed nodes, worked out once: a flat list
/// of steps, each knowing where its value comes from.
struct Plan<T: Float> {
    /// The nodes to evaluate, in increasing id order (a topological order).
    order: Vec<usize>,
    /// For each step of `order`, how it is computed.
    steps: Vec<Step<T>>,
    /// For each step, the steps whose values no later step needs (and no fetch
    /// returns): released right after it. A prepared step keeps its buffer for the next
    /// run; any other value goes back to the pool, for the next outputs of its size.
    release_after: Vec<SmallVec<[usize; 2]>>,
    /// For each step of `order`, whether the node's shape or op holds a size known only
    /// at run time: such an op is resized for the run, and its result's shape checked.
    sized: Vec<bool>,
    /// The same steps as one flat list of kernels, when they all have one (see
    /// `program.rs`): what a training step's run is.
    program: Option<Program<T>>,
}

/// How one step of a plan gets its value.
enum Step<T: Float> {
    /// It is the run's feed number `i` (a plan is used only with the feeds it was made
    /// for, in the same order: they are part of its key).
    Feed(usize),
    /// A value known when planning: a constant node's, or that of an op computed from
    /// constants alone (folded once, as TensorFlow's optimiser does: a gradient's seed of
    /// ones, broadcast and scaled).
    Constant(Array<T>),
    /// An op with a prepared kernel (`prepared.rs`), planned for fixed shapes.
    Prepared(Prepared<T>),
    /// Anything else: computed from the node's kind, as written in the graph.
    Node,
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
                recent: None,
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
        let name_of = |id: usize| match &nodes[id].kind {
            Kind::Placeholder(name) | Kind::Variable { name, .. } => format!("'{name}'"),
            _ => format!("node {id}"),
        };
        // The unknown size N of this run (a placeholder's -1), with the feed that gave it.
        let mut unknown: Option<(usize, usize)> = None;
        for (node, value) in feeds {
            if !Arc::ptr_eq(&node.graph, &self.graph) {
                return Err(graph_error(format!(
                    "a feed's node (node {}) belongs to another graph",
                    node.id
                )));
            }
            let fits_as_built = crate::shape::same(value.shape(), node.shape());
            let found = if fits_as_built {
                Some(None)
            } else {
                fit(node.shape(), value.shape())
            };
            let found = found.ok_or_else(|| {
                Error::shape(
                    "run",
                    format!(
                        "the feed for {} has shape {:?}, but the node has shape {}",
                        name_of(node.id),
                        value.shape(),
                        sizes::display_shape(node.shape())
                    ),
                )
            })?;
            match (found, unknown) {
                (Some(n), Some((m, by))) if n != m => {
                    return Err(Error::shape(
                        "run",
                        format!(
                            "the feeds disagree on the unknown size N (every -1 of a graph is \
                             the same size): {} gives N = {m}, {} gives N = {n}",
                            name_of(by),
                            name_of(node.id)
                        ),
                    ))
                }
                (Some(n), None) => unknown = Some((n, node.id)),
                _ => {}
            }
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let State {
            recent,
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
        if recent
            .as_ref()
            .is_none_or(|(k, _, _)| !crate::shape::same(k, key))
        {
            let found = match plans.remove(key.as_slice()) {
                Some((plan, _)) => plan,
                // Planning checks every feed a fetch needs, so a run that would fail does
                // so before anything is evaluated (an `assign` included).
                None => plan(&nodes, fetches, feeds)?,
            };
            if let Some((old_key, old_plan, used)) = recent.replace((key.clone(), found, *runs)) {
                if plans.len() + 1 >= PLANS_KEPT {
                    let oldest = plans
                        .iter()
                        .min_by_key(|(_, (_, used))| *used)
                        .map(|(k, _)| k.clone());
                    if let Some(oldest) = oldest {
                        plans.remove(&oldest);
                    }
                }
                plans.insert(old_key, (old_plan, used));
            }
        }
        let (_, plan, used) = recent.as_mut().expect("the plan was just put there");
        *used = *runs;
        if values.len() < nodes.len() {
            values.resize_with(nodes.len(), || None);
        }
        let by_steps = |values: &mut [Option<Array<T>>]| {
            evaluate(&nodes, plan, feeds, values, unknown.map(|(n, _)| n))
        };
        let result = match &plan.program {
            Some(program) => program.run(&nodes, feeds, values).and_then(|done| {
                if done {
                    Ok(())
                } else {
                    by_steps(values)
                }
            }),
            None => by_steps(values),
        };
        let outputs = result.map(|()| {
            fetches
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let slot = &mut values[n.id];
                    let value = slot.as_ref().expect("fetched nodes are evaluated");
                    // The caller may change an output in place without touching a
                    // constant, a variable or a fed tensor: a value whose buffer nothing
                    // else holds (an op's result) is handed over as it is, anything else
                    // as a private copy. (A step that kept its buffer for the next run
                    // makes a new one then, from the thread's pool.)
                    let fetched_again = fetches[i + 1..].iter().any(|m| m.id == n.id);
                    if value.is_unique() && !fetched_again {
                        Tensor::from_array(slot.take().expect("checked above"))
                    } else {
                        Tensor::from_array(value.private_copy())
                    }
                })
                .collect()
        });
        for (&id, step) in plan.order.iter().zip(&plan.steps) {
            release(step, &mut values[id]);
        }
        outputs
    }
}

impl<T: Float> Session<T> {
    /// Whether the last run's plan has a [`Program`] (the run used it if every source was
    /// dense).
    #[cfg(test)]
    pub(super) fn planned_as_program(&self) -> bool {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state
            .recent
            .as_ref()
            .is_some_and(|(_, plan, _)| plan.program.is_some())
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
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.plans.len() + usize::from(state.recent.is_some())
    }
}

/// The nodes the fetches need, in increasing id order, and when each value dies. A fed
/// node is a source: what it is computed from is not needed.
fn plan<T: Float>(
    nodes: &[super::NodeDef<T>],
    fetches: &[&Node<T>],
    feeds: &[(&Node<T>, &Tensor<T>)],
) -> Result<Plan<T>> {
    let is_fed = |id: usize| feeds.iter().any(|(n, _)| n.id == id);
    // What the fetches need without folding, then with the folded values as sources.
    let mut folded = vec![None; nodes.len()];
    let needed = reached(nodes.len(), fetches, |id| {
        inputs(nodes, id, &is_fed, &folded)
    });
    folded = fold_constants(nodes, &needed, &is_fed);
    let inputs_of = |id: usize| inputs(nodes, id, &is_fed, &folded);
    let needed = reached(nodes.len(), fetches, inputs_of);
    let order: Vec<usize> = (0..nodes.len()).filter(|&id| needed[id]).collect();
    if let Some(name) = order.iter().find_map(|&id| match &nodes[id].kind {
        Kind::Placeholder(name) if !is_fed(id) => Some((name, id)),
        _ => None,
    }) {
        let (name, id) = name;
        return Err(graph_error(format!(
            "missing feed for placeholder '{name}' (shape {})",
            sizes::display_shape(&nodes[id].shape)
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
    for (at, &id) in order.iter().enumerate() {
        if let Some(step) = last_use[id].filter(|_| !fetches.iter().any(|f| f.id == id)) {
            release_after[step].push(at);
        }
    }
    let sized: Vec<bool> = order
        .iter()
        .map(|&id| {
            let def = &nodes[id];
            let mut unknown = def.shape.iter().any(|&d| sizes::is_unknown(d));
            if let Kind::Apply { op, .. } = &def.kind {
                // The check cannot fail: it only notes which sizes are unknown.
                let _ = op.resize(&mut |d| {
                    unknown |= sizes::is_unknown(d);
                    Ok(d)
                });
            }
            unknown
        })
        .collect();
    let steps = order
        .iter()
        .zip(&sized)
        .map(|(&id, &sized): (&usize, &bool)| {
            if let Some(i) = feeds.iter().position(|(n, _)| n.id == id) {
                return Step::Feed(i);
            }
            if let Some(value) = folded[id].take() {
                return Step::Constant(value);
            }
            match &nodes[id].kind {
                Kind::Apply { op, inputs }
                    // Every size known when planning: the inputs' too (a product of two
                    // inputs of unknown length N makes a fully known shape).
                    if !sized
                        && inputs
                            .iter()
                            .all(|&i| !nodes[i].shape.iter().any(|&d| sizes::is_unknown(d))) =>
                {
                    let shapes: SmallVec<[&[usize]; 2]> =
                        inputs.iter().map(|&i| nodes[i].shape.as_slice()).collect();
                    Prepared::new(op, &shapes, &nodes[id].shape).map_or(Step::Node, Step::Prepared)
                }
                _ => Step::Node,
            }
        })
        .collect::<Vec<_>>();
    let fetched: SmallVec<[usize; 4]> = fetches.iter().map(|n| n.id).collect();
    let program = if sized.iter().any(|&s| s) {
        None
    } else {
        let planned = steps.iter().map(|step| match step {
            &Step::Feed(i) => Planned::Feed(i),
            Step::Constant(value) => Planned::Constant(value),
            Step::Prepared(prepared) => Planned::Prepared(prepared),
            Step::Node => Planned::Node,
        });
        Program::new(nodes, &order, planned, &fetched)
    };
    Ok(Plan {
        order,
        steps,
        release_after,
        sized,
        program,
    })
}

/// The nodes a run needs evaluated before node `id`: none for a source, a fed node or one
/// folded when planning.
fn inputs<T: Float>(
    nodes: &[super::NodeDef<T>],
    id: usize,
    is_fed: &dyn Fn(usize) -> bool,
    folded: &[Option<Array<T>>],
) -> SmallVec<[usize; 2]> {
    match &nodes[id].kind {
        _ if is_fed(id) || folded[id].is_some() => SmallVec::new(),
        Kind::Apply { op, inputs } => {
            // A node sized by a data-dependent length needs the node that has it.
            let mut inputs = inputs.clone();
            let mut note = |d: usize| {
                if let Ok(sizes::Size::Dynamic(k)) = sizes::decode("run", d)
                    && k != id
                    && !inputs.contains(&k)
                {
                    inputs.push(k);
                }
            };
            nodes[id].shape.iter().for_each(|&d| note(d));
            let _ = op.resize(&mut |d| {
                note(d);
                Ok(d)
            });
            inputs
        }
        Kind::Assign { variable, value } => SmallVec::from_slice(&[*variable, *value]),
        _ => SmallVec::new(),
    }
}

/// Which of `count` nodes the fetches reach through `inputs_of`.
fn reached<T: Float>(
    count: usize,
    fetches: &[&Node<T>],
    inputs_of: impl Fn(usize) -> SmallVec<[usize; 2]>,
) -> Vec<bool> {
    let mut needed = vec![false; count];
    let mut stack: Vec<usize> = fetches.iter().map(|n| n.id).collect();
    while let Some(id) = stack.pop() {
        if !std::mem::replace(&mut needed[id], true) {
            stack.extend(inputs_of(id));
        }
    }
    needed
}

/// The values known without any feed, by node id: every `needed` constant that is not
/// fed, and every op on those alone whose shape is fully known, computed here once (ops
/// are pure functions of their inputs). An op that fails is left to fail at run time,
/// where an unfolded graph would.
fn fold_constants<T: Float>(
    nodes: &[super::NodeDef<T>],
    needed: &[bool],
    is_fed: &dyn Fn(usize) -> bool,
) -> Vec<Option<Array<T>>> {
    let mut folded: Vec<Option<Array<T>>> = vec![None; nodes.len()];
    let known = |shape: &[usize]| !shape.iter().any(|&d| sizes::is_unknown(d));
    for id in (0..nodes.len()).filter(|&id| needed[id]) {
        if is_fed(id) || !known(&nodes[id].shape) {
            continue;
        }
        folded[id] = match &nodes[id].kind {
            Kind::Constant(value) => Some(value.clone()),
            Kind::Apply { op, inputs } if inputs.iter().all(|&i| folded[i].is_some()) => {
                let mut fixed = true;
                let _ = op.resize(&mut |d| {
                    fixed &= !sizes::is_unknown(d);
                    Ok(d)
                });
                let args: SmallVec<[&Array<T>; 2]> =
                    inputs.iter().filter_map(|&i| folded[i].as_ref()).collect();
                fixed.then(|| op.eval(&args).ok()).flatten()
            }
            _ => None,
        };
    }
    folded
}

/// Empties a step's value slot, unless it is a prepared step's own buffer: that stays,
/// for the next run to write into.
fn release<T: Float>(step: &Step<T>, value: &mut Option<Array<T>>) {
    if !matches!(step, Step::Prepared(prepared) if prepared.keeps_output()) {
        *value = None;
    }
}

/// Whether a value of shape `fed` fits a node of shape `built`: `None` if not, else the
/// unknown size N it implies (`Some(None)` if the node's shape is fully known).
fn fit(built: &[usize], fed: &[usize]) -> Option<Option<usize>> {
    if built.len() != fed.len() {
        return None;
    }
    let mut n = None;
    for (&b, &f) in built.iter().zip(fed) {
        match sizes::decode("run", b).ok()? {
            sizes::Size::Known(b) if b != f => return None,
            sizes::Size::Known(_) | sizes::Size::Dynamic(_) => {}
            sizes::Size::Affine { a, b } => {
                let scaled = f as i128 - b as i128;
                if scaled < 0 || scaled % a as i128 != 0 {
                    return None;
                }
                let value = usize::try_from(scaled / a as i128).ok()?;
                if n.is_some_and(|m| m != value) {
                    return None;
                }
                n = Some(value);
            }
        }
    }
    Some(n)
}

fn evaluate<T: Float>(
    nodes: &[super::NodeDef<T>],
    plan: &Plan<T>,
    feeds: &[(&Node<T>, &Tensor<T>)],
    values: &mut [Option<Array<T>>],
    unknown: Option<usize>,
) -> Result<()> {
    // The lengths of the data-dependent nodes evaluated so far (`masked_select`).
    let mut lengths: SmallVec<[(usize, usize); 2]> = SmallVec::new();
    for at in 0..plan.order.len() {
        let (id, sized) = (plan.order[at], plan.sized[at]);
        let value = match &plan.steps[at] {
            Step::Feed(i) => {
                let fed = feeds[*i].1;
                if sized {
                    note_lengths(&nodes[id].shape, fed.shape(), &mut lengths);
                }
                values[id] = Some(fed.array().clone());
                continue;
            }
            Step::Constant(value) => value.clone(),
            Step::Prepared(prepared) => {
                let Kind::Apply { op, inputs } = &nodes[id].kind else {
                    unreachable!("only an op is prepared")
                };
                {
                    // Inputs have smaller ids than the node (ids are a topological order).
                    let (before, from_here) = values.split_at_mut(id);
                    let args: SmallVec<[&Array<T>; 2]> = inputs
                        .iter()
                        .map(|&i| before[i].as_ref().expect("inputs come first"))
                        .collect();
                    let slot = &mut from_here[0];
                    if !prepared.run(&args, slot)? {
                        *slot = Some(op.eval(&args)?);
                    }
                }
                for &done in &plan.release_after[at] {
                    release(&plan.steps[done], &mut values[plan.order[done]]);
                }
                continue;
            }
            Step::Node => compute(nodes, id, sized, values, unknown, &mut lengths)?,
        };
        values[id] = Some(value);
        for &done in &plan.release_after[at] {
            release(&plan.steps[done], &mut values[plan.order[done]]);
        }
    }
    Ok(())
}

/// The value of node `id` computed from its kind, as written in the graph.
fn compute<T: Float>(
    nodes: &[super::NodeDef<T>],
    id: usize,
    sized: bool,
    values: &[Option<Array<T>>],
    unknown: Option<usize>,
    lengths: &mut SmallVec<[(usize, usize); 2]>,
) -> Result<Array<T>> {
    Ok({
        match &nodes[id].kind {
            Kind::Placeholder(name) => {
                return Err(graph_error(format!(
                    "missing feed for placeholder '{name}' (shape {})",
                    sizes::display_shape(&nodes[id].shape)
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
                if sized {
                    let name = op.name();
                    let length = |k: usize| lengths.iter().find(|l| l.0 == k).map(|l| l.1);
                    let value = op
                        .resize(&mut |d| sizes::resolve(name, d, unknown, &length))?
                        .eval(&args)?;
                    check_shape(name, &nodes[id].shape, value.shape(), unknown, &length)?;
                    note_lengths(&nodes[id].shape, value.shape(), lengths);
                    value
                } else {
                    op.eval(&args)?
                }
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
        }
    })
}

/// Records the run-time length of each data-dependent dim of a node built as `built`.
fn note_lengths(built: &[usize], got: &[usize], lengths: &mut SmallVec<[(usize, usize); 2]>) {
    for (&b, &g) in built.iter().zip(got) {
        if let Ok(sizes::Size::Dynamic(k)) = sizes::decode("run", b) {
            lengths.push((k, g));
        }
    }
}

/// Checks that an op resized for this run made the shape the graph was built for, so a
/// size the build could not follow is an error, never a silently wrong value.
fn check_shape(
    op: &'static str,
    built: &[usize],
    got: &[usize],
    unknown: Option<usize>,
    length: &dyn Fn(usize) -> Option<usize>,
) -> Result<()> {
    let fits = built.len() == got.len()
        && built.iter().zip(got).all(|(&b, &g)| {
            matches!(sizes::decode(op, b), Ok(sizes::Size::Dynamic(_)))
                || sizes::resolve(op, b, unknown, length).is_ok_and(|b| b == g)
        });
    if fits {
        Ok(())
    } else {
        Err(Error::shape(
            op,
            format!(
                "made shape {got:?} in a run with N = {}, but the graph was built for shape {}",
                unknown.map_or("?".to_string(), |n| n.to_string()),
                sizes::display_shape(built)
            ),
        ))
    }
}
