//! The lecture's training steps (workloads W1-W6 of `../shared/anchors`) and the S2 MLP's,
//! shared by the timing benches (`lecture.rs`, `mlp.rs`) and the runner that other
//! programs time in turns (`instructions.rs`).

use std::cell::RefCell;
use tapegrad::graph::{Graph, Node, Session};
use tapegrad::nn::{functional::mse_loss, Linear, Module, Relu, Sequential};
use tapegrad::optim::{Adam, Optimizer};
use tapegrad::{manual_seed, no_grad, Tensor};

const LR: f32 = 1e-6;

pub struct Problem {
    x: Tensor,
    y: Tensor,
    w: Tensor,
}

pub fn problem(requires_grad: bool) -> Problem {
    manual_seed(0);
    let x = Tensor::randn(&[64, 4]);
    let y = Tensor::randn(&[64, 2]);
    let w = Tensor::randn(&[4, 2]).requires_grad_(requires_grad);
    Problem { x, y, w }
}

/// W1/W2: the NumPy and manual-PyTorch slides' step (gradient by hand, loss computed),
/// op for op as in ../shared/anchors/lecture_numpy_torch.py (`y_pred - y` twice).
pub fn manual_step(p: &Problem) -> f32 {
    let y_pred = p.x.mm(&p.w);
    let loss = (0.5 * (&y_pred - &p.y).pow(2.0)).sum();
    let grad_y_pred = &y_pred - &p.y;
    let grad_w = p.x.t().mm(&grad_y_pred);
    p.w.sub_(&(grad_w * LR));
    loss.item()
}

/// W3: the autograd slide's step.
pub fn autograd_step(p: &Problem) -> f32 {
    let loss = (0.5 * (&p.x.mm(&p.w) - &p.y).pow(2.0)).sum();
    loss.backward();
    no_grad(|| p.w.sub_(&(LR * p.w.grad().expect("w has a gradient"))));
    p.w.zero_grad();
    loss.item()
}

/// W6, TensorFlow 1 style: loss and gradient through Session::run with a feed dict,
/// the update outside the graph (as `lecture_tf.py`'s `w6_tf1_graph`).
pub struct FeedDictStep {
    session: Session,
    x: Node,
    y: Node,
    w: Node,
    loss: Node,
    grad_w: Node,
    values: Problem,
}

pub fn feed_dict_step(s: &FeedDictStep) -> f32 {
    let v = &s.values;
    let out = s
        .session
        .run(
            &[&s.loss, &s.grad_w],
            &[(&s.x, &v.x), (&s.y, &v.y), (&s.w, &v.w)],
        )
        .expect("fed");
    v.w.sub_(&(&out[1] * LR));
    out[0].item()
}

pub fn feed_dict_graph() -> FeedDictStep {
    let g = Graph::<f32>::new();
    let (x, y, w) = (
        g.placeholder("x", &[64, 4]),
        g.placeholder("y", &[64, 2]),
        g.placeholder("w", &[4, 2]),
    );
    let loss = (0.5 * (x.mm(&w) - &y).pow(2.0)).sum();
    let grad_w = g.gradients(&loss, &[&w]).remove(0);
    FeedDictStep {
        session: Session::new(&g),
        x,
        y,
        w,
        loss,
        grad_w,
        values: problem(false),
    }
}

/// W6, the whole step inside the graph (a variable and an assign; like tf.function).
pub struct InGraphStep {
    session: Session,
    x: Node,
    y: Node,
    loss: Node,
    step: Node,
    values: Problem,
}

pub fn in_graph_step(s: &InGraphStep) -> f32 {
    let out = s
        .session
        .run(
            &[&s.loss, &s.step],
            &[(&s.x, &s.values.x), (&s.y, &s.values.y)],
        )
        .expect("fed");
    out[0].item()
}

pub fn in_graph() -> InGraphStep {
    let values = problem(false);
    let g = Graph::<f32>::new();
    let (x, y) = (g.placeholder("x", &[64, 4]), g.placeholder("y", &[64, 2]));
    let w = g.variable("w", &values.w);
    let loss = (0.5 * (x.mm(&w) - &y).pow(2.0)).sum();
    let grad_w = &g.gradients(&loss, &[&w])[0];
    let step = w.assign(&(&w - &(LR * grad_w)));
    InGraphStep {
        session: Session::new(&g),
        x,
        y,
        loss,
        step,
        values,
    }
}

/// W4 / W5: a model, `mse_loss` and Adam (lr 1e-4, as ../shared/anchors/common.py).
pub struct AdamStep<M> {
    model: M,
    optimizer: RefCell<Adam>,
    x: Tensor,
    y: Tensor,
}

pub fn adam_problem<M: Module>(model: M) -> AdamStep<M> {
    let x = Tensor::randn(&[64, 4]);
    let y = Tensor::randn(&[64, 2]);
    let optimizer = RefCell::new(Adam::new(model.parameters(), 1e-4));
    AdamStep {
        model,
        optimizer,
        x,
        y,
    }
}

/// S2 of ../shared/anchors: a 784-256-10 ReLU MLP, batch 128, `mse_loss`, Adam (lr 1e-3),
/// stepped by [`adam_step`].
pub fn mlp_problem() -> AdamStep<Sequential> {
    manual_seed(0);
    let x = Tensor::randn(&[128, 784]);
    let y = Tensor::randn(&[128, 10]);
    let model = Sequential::new()
        .add(Linear::new(784, 256))
        .add(Relu)
        .add(Linear::new(256, 10));
    let optimizer = RefCell::new(Adam::new(model.parameters(), 1e-3));
    AdamStep {
        model,
        optimizer,
        x,
        y,
    }
}

pub fn adam_step<M: Module>(s: &AdamStep<M>) -> f32 {
    let loss = mse_loss(&s.model.forward(&s.x), &s.y);
    let mut optimizer = s.optimizer.borrow_mut();
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    loss.item()
}
