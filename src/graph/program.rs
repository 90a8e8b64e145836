//! A planned run as one flat list of prepared kernels, for a plan made of nothing else.
//!
//! A training step's graph is a few products and elementwise ops on fed batches, with a
//! transpose or two from its gradient. When planning finds every step of a run to be a
//! feed, a constant, a variable, a prepared kernel, a view that only products read, or an
//! assign that nothing reads, it writes the run as a [`Program`]:
//!
//! - Its sources (feeds, constants, variables) are read-locked once per run, together.
//! - Each kernel reads its inputs straight from where they are: a source's buffer, or
//!   the buffer an earlier kernel of the run wrote, which the session alone holds and so
//!   reads without a lock. Nothing is checked per step that planning already knows.
//! - A view is no step at all: the product that reads it takes its strides.
//! - Each kernel writes into the buffer it kept from the last run, as prepared steps do.
//!
//! The kernels and their order are those of the step-by-step path: the same bits.

use super::prepared::{write_into, Kernel, Prepared};
use super::{Kind, NodeDef};
use crate::array::matmul::Operand;
use crate::array::{catching_alloc_failure, Array};
use crate::element::Float;
use crate::error::Result;
use crate::shape::{shape_of, Shape};
use crate::tensor::Tensor;
use smallvec::SmallVec;
use std::sync::PoisonError;

/// A run's steps, in order: see the module documentation.
pub(super) struct Program<T: Float> {
    /// What the run reads but does not compute.
    sources: Vec<Source<T>>,
    steps: Vec<Step<T>>,
}

/// A value a program reads as it is.
enum Source<T: Float> {
    /// The run's feed number `i`.
    Feed(usize),
    /// A value folded when planning.
    Constant(Array<T>),
    /// A variable's value as the run starts (its assign, if the run has one, is later).
    Variable(usize),
}

/// One kernel or assign, and where its inputs are.
struct Step<T: Float> {
    /// The node whose value slot it writes.
    node: usize,
    work: Work<T>,
    /// Its first `arity` inputs.
    inputs: [Input; 2],
    arity: usize,
    /// The distinct slots among them, in increasing order: their first `slot_count`.
    slots: [usize; 2],
    slot_count: usize,
}

impl<T: Float> Step<T> {
    fn new(node: usize, work: Work<T>, read: &[Input]) -> Self {
        let mut slots = [0; 2];
        let mut slot_count = 0;
        let mut ids: SmallVec<[usize; 2]> = read
            .iter()
            .filter_map(|input| match input.from {
                From::Slot(id) => Some(id),
                From::Source(_) => None,
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            slots[slot_count] = id;
            slot_count += 1;
        }
        // The second input of a one-input step: never read (`arity` is 1).
        let unused = Input {
            from: From::Source(0),
            rs: 0,
            cs: 0,
        };
        Step {
            node,
            work,
            inputs: [read[0], read.get(1).copied().unwrap_or(unused)],
            arity: read.len(),
            slots,
            slot_count,
        }
    }
}

enum Work<T: Float> {
    Kernel {
        kernel: Kernel<T>,
        name: &'static str,
        shape: Shape,
    },
    /// A variable's new value: a copy of the input, kept by the variable.
    Assign { variable: usize, shape: Shape },
}

/// Where a step's input is, with the row and column strides a product reads it by.
#[derive(Clone, Copy)]
struct Input {
    from: From,
    rs: usize,
    cs: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum From {
    /// Source number `i`.
    Source(usize),
    /// The value slot of node `id`, written earlier in the run.
    Slot(usize),
}

impl Input {
    /// A dense value of `shape` (strides matter for a matrix only).
    fn dense(from: From, shape: &[usize]) -> Input {
        let (rs, cs) = match shape {
            &[_, cols] => (cols, 1),
            _ => (0, 0),
        };
        Input { from, rs, cs }
    }
}

/// How planning computes one node, as `Program::new` reads it.
pub(super) enum Planned<'a, T: Float> {
    Feed(usize),
    Constant(&'a Array<T>),
    Prepared(&'a Prepared<T>),
    Node,
}

impl<T: Float> Program<T> {
    /// The program for a plan's steps (`order`, and how each is computed), if it has one:
    /// every step of a kind above, and every fetch a kernel's or an assign's value.
    pub(super) fn new<'a>(
        nodes: &[NodeDef<T>],
        order: &[usize],
        planned: impl Iterator<Item = Planned<'a, T>>,
        fetches: &[usize],
    ) -> Option<Self>
    where
        T: 'a,
    {
        let mut sources = Vec::new();
        let mut steps = Vec::new();
        // Where each node's value is found; `None` for one no step may read (an assign's).
        let mut found: Vec<Option<Input>> = vec![None; nodes.len()];
        // Views: read only by products, which take their strides.
        let mut view = vec![false; nodes.len()];
        let mut source = |s: Source<T>, shape: &[usize]| {
            sources.push(s);
            Some(Input::dense(From::Source(sources.len() - 1), shape))
        };
        for (&id, how) in order.iter().zip(planned) {
            let shape = nodes[id].shape.as_slice();
            found[id] = match (how, &nodes[id].kind) {
                (Planned::Feed(i), _) => source(Source::Feed(i), shape),
                (Planned::Constant(value), _) if value.is_contiguous() => {
                    source(Source::Constant(value.clone()), shape)
                }
                (Planned::Node, Kind::Variable { .. }) => source(Source::Variable(id), shape),
                (Planned::Node, &Kind::Assign { variable, value }) => {
                    let input = found[value].filter(|_| !view[value])?;
                    let work = Work::Assign {
                        variable,
                        shape: shape_of(shape),
                    };
                    steps.push(Step::new(id, work, &[input]));
                    None
                }
                (Planned::Prepared(prepared), Kind::Apply { inputs, .. }) => {
                    let mut read: SmallVec<[Input; 2]> = SmallVec::new();
                    for &i in inputs {
                        read.push(found[i]?);
                    }
                    if !matches!(read.len(), 1 | 2) {
                        return None;
                    }
                    let kernel = prepared.kernel();
                    let product = matches!(kernel, Kernel::MatMul { .. });
                    if inputs.iter().any(|&i| view[i]) && !product {
                        return None;
                    }
                    if let Kernel::View(layout, _) = kernel {
                        // A view of a dense value, which it reads from the same start.
                        let (&[input], &[rs, cs]) = (read.as_slice(), layout.strides.as_slice())
                        else {
                            return None;
                        };
                        view[id] = true;
                        Some(Input { rs, cs, ..input })
                    } else {
                        let work = Work::Kernel {
                            kernel: kernel.clone(),
                            name: prepared.name(),
                            shape: shape_of(prepared.shape()),
                        };
                        steps.push(Step::new(id, work, &read));
                        Some(Input::dense(From::Slot(id), shape))
                    }
                }
                _ => return None,
            };
        }
        let written = |id: usize| steps.iter().any(|s: &Step<T>| s.node == id);
        fetches
            .iter()
            .all(|&id| written(id))
            .then_some(Program { sources, steps })
    }

    /// Runs the program, writing each step's value into its node's slot of `values`.
    /// False, with nothing done, when a source is not dense (a fed transpose, say): then
    /// the caller runs the plan step by step.
    pub(super) fn run(
        &self,
        nodes: &[NodeDef<T>],
        feeds: &[(&super::Node<T>, &Tensor<T>)],
        values: &mut [Option<Array<T>>],
    ) -> Result<bool> {
        let variables: SmallVec<[Array<T>; 2]> = self
            .sources
            .iter()
            .filter_map(|s| match s {
                &Source::Variable(id) => match &nodes[id].kind {
                    Kind::Variable { value, .. } => {
                        Some(value.lock().unwrap_or_else(PoisonError::into_inner).clone())
                    }
                    _ => unreachable!("a variable source is a variable"),
                },
                _ => None,
            })
            .collect();
        let mut variable = variables.iter();
        let arrays: SmallVec<[&Array<T>; 4]> = self
            .sources
            .iter()
            .map(|s| match s {
                &Source::Feed(i) => feeds[i].1.array(),
                Source::Constant(value) => value,
                Source::Variable(_) => variable.next().expect("one per variable source"),
            })
            .collect();
        if !arrays.iter().all(|a| a.is_contiguous()) {
            return Ok(false);
        }
        Array::read_all(&arrays, |sources| {
            for step in &self.steps {
                // Inputs have smaller ids than the node (ids are a topological order).
                let (before, from_here) = values.split_at_mut(step.node);
                let operands = operands(step, sources, before);
                let inputs = &operands[..step.arity];
                let slot = &mut from_here[0];
                match &step.work {
                    Work::Kernel {
                        kernel,
                        name,
                        shape,
                    } => {
                        write_into(slot, name, shape, |out| kernel.apply(inputs, out))?;
                    }
                    Work::Assign { variable, shape } => {
                        let source = inputs[0].data;
                        let stored = catching_alloc_failure(
                            || "assign",
                            || {
                                Ok(Array::build(shape, |out| {
                                    out.copy_from_slice(&source[..out.len()])
                                }))
                            },
                        )?;
                        if let Kind::Variable { value, .. } = &nodes[*variable].kind {
                            *value.lock().unwrap_or_else(PoisonError::into_inner) = stored.clone();
                        }
                        *slot = Some(stored);
                    }
                }
            }
            Ok(true)
        })
    }
}

/// The operands of a step (its first `arity`): a source's elements, or the buffer of an
/// earlier step's slot in `before` (one `&mut` borrow per distinct slot, which proves it
/// unshared).
fn operands<'a, T: Float>(
    step: &Step<T>,
    sources: &[&'a [T]],
    before: &'a mut [Option<Array<T>>],
) -> [Operand<'a, T>; 2] {
    // The buffers of the step's slots, in the same order: `before` split at each.
    let mut buffers: [&'a [T]; 2] = [&[], &[]];
    let (mut rest, mut start) = (before, 0);
    for (buffer, &id) in buffers.iter_mut().zip(&step.slots[..step.slot_count]) {
        let (head, tail) = rest.split_at_mut(id + 1 - start);
        (rest, start) = (tail, id + 1);
        let slot = head.last_mut().and_then(Option::as_mut);
        *buffer = slot
            .and_then(Array::unshared)
            .expect("a kernel's output is the session's alone until the run ends");
    }
    step.inputs.map(|input| Operand {
        data: match input.from {
            From::Source(i) => sources.get(i).copied().unwrap_or_default(),
            From::Slot(id) => buffers[usize::from(id != step.slots[0])],
        },
        rs: input.rs,
        cs: input.cs,
    })
}

#[cfg(test)]
mod tests {
    use crate::graph::{Graph, Session};
    use crate::Tensor;

    fn bits(t: &Tensor) -> Vec<u32> {
        t.to_vec().into_iter().map(f32::to_bits).collect()
    }

    /// `t`'s values in a transposed layout: a strided source, which makes a run go step
    /// by step.
    fn strided(t: &Tensor) -> Tensor {
        let (r, c) = (t.shape()[0], t.shape()[1]);
        t.t().contiguous().reshape(&[c, r]).t()
    }

    #[test]
    fn a_training_step_runs_as_a_program_with_the_bits_of_the_step_by_step_run() {
        crate::manual_seed(5);
        let g = Graph::<f32>::new();
        let (x, y, w) = (
            g.placeholder("x", &[6, 5]),
            g.placeholder("y", &[6, 3]),
            g.placeholder("w", &[5, 3]),
        );
        // Products (one of a transposed feed, in the gradient), zip and scalar ops, a
        // power, a sum, and a constant seed folded when planning.
        let loss = (0.5 * (x.mm(&w) - &y).pow(2.0) / 3.0).sum();
        let grad = &g.gradients(&loss, &[&w])[0];
        let sess = Session::new(&g);
        let (xv, yv, wv) = (
            Tensor::randn(&[6, 5]),
            Tensor::randn(&[6, 3]),
            Tensor::randn(&[5, 3]),
        );
        // A narrowed feed (dense, at an offset) runs the program too.
        let wide = Tensor::randn(&[8, 5]);
        let narrow = wide.narrow(0, 2, 6);
        let mut runs = vec![];
        for x_fed in [&xv, &strided(&xv), &xv, &narrow, &strided(&narrow)] {
            let out = sess
                .run(&[&loss, grad], &[(&x, x_fed), (&y, &yv), (&w, &wv)])
                .unwrap();
            assert!(sess.planned_as_program());
            runs.push((bits(&out[0]), bits(&out[1])));
            // Written into by the caller: no later run may see it.
            out[1].fill_(f32::NAN);
        }
        assert_eq!(runs[0], runs[1], "program against step by step");
        assert_eq!(runs[0], runs[2], "a second program run");
        assert_eq!(runs[3], runs[4], "narrowed: program against step by step");
        // And eagerly, with autograd.
        let we = wv.detach().requires_grad_(true);
        let l = (0.5 * (xv.mm(&we) - &yv).pow(2.0) / 3.0).sum();
        l.backward();
        assert_eq!(runs[0], (bits(&l), bits(&we.grad().unwrap())));
    }

    #[test]
    fn training_in_the_graph_as_a_program_matches_the_step_by_step_run() {
        crate::manual_seed(6);
        let (xv, yv, w0) = (
            Tensor::randn(&[8, 4]),
            Tensor::randn(&[8, 2]),
            Tensor::randn(&[4, 2]),
        );
        let train = |x_fed: &Tensor| {
            let g = Graph::<f32>::new();
            let (x, y) = (g.placeholder("x", &[8, 4]), g.placeholder("y", &[8, 2]));
            let w = g.variable("w", &w0);
            let loss = (0.5 * (x.mm(&w) - &y).pow(2.0)).sum();
            let grad = &g.gradients(&loss, &[&w])[0];
            let step = w.assign(&(&w - &(0.01 * grad)));
            let sess = Session::new(&g);
            let mut seen = vec![];
            for _ in 0..5 {
                let out = sess
                    .run(&[&loss, &step], &[(&x, x_fed), (&y, &yv)])
                    .unwrap();
                // The fetched new value is the caller's own, not the variable's buffer.
                out[1].fill_(f32::NAN);
                seen.push(bits(&out[0]));
            }
            assert!(sess.planned_as_program());
            seen.push(bits(&g.variable_value(&w).unwrap()));
            seen
        };
        let program = train(&xv);
        assert_eq!(program, train(&strided(&xv)));
        assert!(program[5].iter().all(|b| f32::from_bits(*b).is_finite()));
        assert_ne!(program[0], program[4], "the loss changes as w trains");
    }

    #[test]
    fn one_tensor_fed_twice_is_read_once_and_steps_read_their_own_inputs() {
        // Two placeholders fed the same tensor: one storage, read-locked once (a second
        // read lock from the same thread may deadlock).
        let g = Graph::<f32>::new();
        let (a, b) = (g.placeholder("a", &[3, 3]), g.placeholder("b", &[3, 3]));
        // Steps of two earlier steps' values, either one first.
        let p = a.mm(&b) * &b;
        let out = ((&p + 1.0) * &p - (&p / 2.0 - &a)).sum();
        let sess = Session::new(&g);
        let v = Tensor::from_vec((0..9).map(|i| i as f32 - 4.0).collect(), &[3, 3]);
        let got = sess.run(&[&out], &[(&a, &v), (&b, &v)]).unwrap();
        assert!(sess.planned_as_program());
        let p = v.mm(&v) * &v;
        assert_eq!(
            bits(&got[0]),
            bits(&((&p + 1.0) * &p - (&p / 2.0 - &v)).sum())
        );
    }

    #[test]
    fn a_run_that_fetches_a_view_or_a_feed_goes_step_by_step() {
        let g = Graph::<f32>::new();
        let x = g.placeholder("x", &[2, 3]);
        let (xt, doubled) = (x.t(), &x * 2.0);
        let sess = Session::new(&g);
        let v = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
        let out = sess.run(&[&xt, &x, &doubled], &[(&x, &v)]).unwrap();
        assert!(!sess.planned_as_program());
        assert_eq!(out[0].to_vec(), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        assert_eq!(out[1].to_vec(), v.to_vec());
        assert_eq!(out[2].to_vec(), vec![2.0, 4.0, 6.0, 8.0, 10.0, 12.0]);
        // The same graph fetching only the op's value: a program.
        sess.run(&[&doubled], &[(&x, &v)]).unwrap();
        assert!(sess.planned_as_program());
    }
}
