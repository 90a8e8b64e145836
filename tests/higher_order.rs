//! Second derivatives against PyTorch: `torch.autograd.functional` (vjp, jvp, hessian, hvp)
//! and a vector-Hessian product of `sum(f * W)` through every op, in f64. The Python that
//! produced each number is `tests/fixtures/higher_order_reference.py`, the function beside
//! its case name there; the tapegrad calls below carry the same names.

use tapegrad::autograd::functional::{hessian, hvp, jacobian, jvp, vhp, vjp};
use tapegrad::autograd::{self, BackwardOptions, GradOptions};
use tapegrad::nn::functional as nnf;
use tapegrad::Tensor;

#[path = "support/close.rs"]
mod close;
use close::assert_close;

const X: [f64; 12] = [
    -1.5, -0.4, 0.3, 0.8, 1.1, 1.9, -0.7, 2.4, 0.6, -1.2, 1.7, 0.9,
];
const Y: [f64; 12] = [
    0.2, -1.1, 0.5, 1.4, 0.9, 0.3, -0.6, 2.0, -0.4, 0.8, 1.2, -0.9,
];
const W2: [f64; 8] = [0.3, -0.2, 0.1, 0.4, -0.5, 0.2, 0.25, -0.15];
const MASK: [bool; 12] = [
    true, false, true, false, false, false, true, true, true, true, false, false,
];

fn t(values: &[f64], shape: &[usize]) -> Tensor<f64> {
    Tensor::from_vec(values.to_vec(), shape)
}

fn x() -> Tensor<f64> {
    t(&X, &[3, 4])
}

fn y() -> Tensor<f64> {
    t(&Y, &[3, 4])
}

fn p() -> Tensor<f64> {
    t(&X.map(|v| v.abs() + 0.5), &[3, 4])
}

fn w2() -> Tensor<f64> {
    t(&W2, &[4, 2])
}

fn xv() -> Tensor<f64> {
    t(&X[..4], &[4])
}

fn inputs(name: &str) -> Vec<Tensor<f64>> {
    match name {
        "mul" | "add_sub" | "pow_tensor_unused" | "maximum" | "matmul_t" | "mse_loss"
        | "mse_loss_sum" | "cat_flip" | "scatter_add" | "where" => vec![x(), y()],
        "div" => vec![x(), p()],
        "pow_frac" | "log" | "sqrt" | "log1p" | "log2" | "log10" | "rsqrt" => vec![p()],
        "pow_tensor" => vec![p(), y()],
        "matmul" => vec![x(), w2()],
        "linear" => vec![x(), w2().t().contiguous(), t(&[0.05, -0.1], &[2])],
        "bce_logits" => vec![x(), y().sigmoid()],
        "hessian_poly" | "prod_all" => vec![xv()],
        "prod_zeros" => vec![t(&[2.0, 0.0, 3.0, 0.0, 0.0, 1.5, 1.0, 2.0, 4.0], &[3, 3])],
        "hessian_two_inputs" => vec![xv(), &xv().flip(&[0]) * 0.5],
        "hessian_least_squares" => vec![w2()],
        _ => vec![x()],
    }
}

/// The tapegrad form of each case's Python function.
fn call(name: &str, v: &[Tensor<f64>]) -> Tensor<f64> {
    let a = &v[0];
    let b = || &v[1];
    let gidx = Tensor::<i64>::from_vec(vec![3, 0, 1, 1, 0, 2], &[3, 2]);
    let idx = Tensor::<i64>::from_vec(vec![2, 0, 2], &[3]);
    let mask = Tensor::from_vec(MASK.to_vec(), &[3, 4]);
    match name {
        "mul" => a * b(),
        "div" => a / b(),
        "add_sub" => &(a + b()) * &(a - b()),
        "scalar_ops" => &(&(2.0 - a) * &(a + 1.5)) / 3.0 + 1.0 / (a * a + 1.0),
        "pow3" => a.pow(3.0),
        "pow_frac" => a.pow(1.7),
        "exp" => a.exp(),
        "log" => a.log(),
        "sqrt" => a.sqrt(),
        "abs" => &a.abs() * a,
        "relu" => &a.relu() * a,
        "sigmoid" => a.sigmoid(),
        "tanh" => a.tanh(),
        "softplus" => a.softplus(),
        "clamp" => &a.clamp(-1.0, 1.0) * a,
        "sin" => a.sin(),
        "cos" => a.cos(),
        "tan" => (a * 0.4).tan(),
        "log1p" => a.log1p(),
        "expm1" => a.expm1(),
        "erf" => a.erf(),
        "log2" => a.log2(),
        "log10" => a.log10(),
        "exp2" => a.exp2(),
        "pow_tensor" => a.pow_tensor(b()),
        "rsqrt" => a.rsqrt(),
        "gelu" => a.gelu(),
        "gelu_tanh" => a.gelu_tanh(),
        "silu" => a.silu(),
        "mish" => a.mish(),
        "elu" => a.elu(1.3),
        "selu" => a.selu(),
        "leaky_relu" => &a.leaky_relu(0.1) * a,
        "log_sigmoid" => a.log_sigmoid(),
        "softsign" => a.softsign(),
        "sum_sq" => (a * a).sum(),
        "mean_sq" => (a * a).mean(),
        "sum_dim" => a.sum_dim(1, false).pow(2.0),
        "mean_dim" => a.mean_dim(0, false).pow(2.0),
        "max_dim" => a.max_dim(1, false).0.pow(2.0),
        "maximum" => a.maximum(b()).pow(2.0),
        "logsumexp" => a.logsumexp(1, false),
        "cumsum" => a.cumsum(1).pow(2.0),
        "var" => a.var_dim(0, false),
        "std" => a.std_dim(1, false),
        "norm" => a.norm(),
        "matmul" => a.matmul(b()).pow(2.0),
        "matmul_t" => a.matmul(&b().t()).tanh(),
        "linear" => nnf::linear(a, b(), Some(&v[2])).tanh(),
        "mse_loss" => nnf::mse_loss(a, b()),
        "mse_loss_sum" => nnf::mse_loss_with(a, b(), nnf::Reduction::Sum),
        "softmax" => nnf::softmax(a, 1),
        "log_softmax" => nnf::log_softmax(a, 0),
        "cross_entropy" => nnf::cross_entropy(a, &Tensor::<i64>::from_vec(vec![1, 3, 0], &[3])),
        "bce_logits" => nnf::binary_cross_entropy_with_logits(a, b()),
        "views" => a.t().reshape(&[6, 2]).expand(&[2, 6, 2]).pow(2.0),
        "narrow_select" => &a.narrow(1, 1, 2).pow(3.0) + &a.select(1, 0).unsqueeze(1),
        "cat_flip" => Tensor::cat(&[a, &b().flip(&[0])], 1).pow(2.0),
        "pad" => a.pad(&[(0, 1), (1, 2)], 0.5).pow(3.0),
        "gather_index" => &a.gather(1, &gidx).pow(2.0) + &a.index_select(0, &idx).narrow(1, 0, 2),
        "scatter_add" => a.scatter_add(1, &gidx, &b().narrow(1, 0, 2)).pow(2.0),
        "where" => mask.where_cond(a, b()).pow(3.0),
        "tril" => a.tril(0).pow(2.0),
        "prod_dim" | "prod_zeros" => a.prod_dim(1, false),
        "prod_all" => a.prod(),
        "hessian_poly" => (&a.pow(3.0) * &a.flip(&[0])).sum(),
        "hessian_two_inputs" => (&(a * a) * b()).sum() + (&a.exp() * &b().sin()).sum(),
        "hessian_least_squares" => (&x().matmul(a) - &y().narrow(1, 0, 2)).pow(2.0).mean(),
        other => panic!("no tapegrad call for case {other}"),
    }
}

/// One case's reference lines, by tag.
#[derive(Default)]
struct Case {
    name: String,
    lines: Vec<(String, Vec<usize>, Vec<f64>)>,
}

fn reference() -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for line in include_str!("fixtures/higher_order_reference.txt").lines() {
        let mut words = line.split_whitespace();
        let tag = words.next().expect("a tag").to_string();
        if tag == "case" {
            cases.push(Case {
                name: words.next().expect("a name").to_string(),
                ..Case::default()
            });
            continue;
        }
        let count = match tag.as_str() {
            "hessian" => 2,
            "jvp" => 0,
            _ => 1,
        };
        let positions = (0..count)
            .map(|_| words.next().expect("an index").parse().expect("an index"))
            .collect();
        let numbers = words.map(|w| w.parse().expect("a number")).collect();
        cases
            .last_mut()
            .expect("a case first")
            .lines
            .push((tag, positions, numbers));
    }
    cases
}

fn weights_like(t: &Tensor<f64>) -> Tensor<f64> {
    let n = t.numel();
    Tensor::from_vec((0..n).map(|i| 1.0 + 0.1 * i as f64).collect(), t.shape())
}

fn tangents_like(t: &Tensor<f64>) -> Tensor<f64> {
    let n = t.numel();
    Tensor::from_vec((0..n).map(|i| 0.5 - 0.07 * i as f64).collect(), t.shape())
}

#[test]
fn second_derivatives_of_every_op_match_pytorch() {
    let cases = reference();
    assert!(cases.len() >= 60, "only {} cases", cases.len());
    for case in &cases {
        let name = case.name.as_str();
        let xs = inputs(name);
        let refs: Vec<&Tensor<f64>> = xs.iter().collect();
        let f = |v: &[Tensor<f64>]| call(name, v);
        let value = f(&xs);
        let w = weights_like(&value);
        let vs: Vec<Tensor<f64>> = xs.iter().map(tangents_like).collect();
        let v_refs: Vec<&Tensor<f64>> = vs.iter().collect();

        let (_, vj) = vjp(f, &refs, &w).unwrap();
        let (_, jv) = jvp(f, &refs, &v_refs).unwrap();
        // d/dx of <d sum(f * W)/dx, V>, through autograd::grad with create_graph.
        let leaves: Vec<Tensor<f64>> = xs.iter().map(|x| x.detach().requires_grad_(true)).collect();
        let leaf_refs: Vec<&Tensor<f64>> = leaves.iter().collect();
        let objective = (&f(&leaves) * &w).sum();
        let first = autograd::grad(&[&objective], &leaf_refs, None, true, true)
            .unwrap_or_else(|e| panic!("{name}: first grad: {e}"));
        let mut dot = Tensor::scalar(0.0);
        for (g, v) in first.iter().zip(&vs) {
            dot = &dot + &(g * v).sum();
        }
        let options = GradOptions {
            allow_unused: true,
            ..GradOptions::default()
        };
        let second = if dot.requires_grad() {
            autograd::grad_with_options(&[&dot], &leaf_refs, &options)
                .unwrap_or_else(|e| panic!("{name}: second grad: {e}"))
        } else {
            vec![None; leaves.len()]
        };
        let (hess, hv) = if value.numel() == 1 {
            (
                hessian(f, &refs).unwrap(),
                hvp(f, &refs, &v_refs).unwrap().1,
            )
        } else {
            (Vec::new(), Vec::new())
        };
        let n = xs.len();
        for (tag, at, expected) in &case.lines {
            let what = format!("{name} {tag} {at:?}");
            let actual = match tag.as_str() {
                "vjp" => vj[at[0]].to_vec(),
                "jvp" => jv.to_vec(),
                "gg" => second[at[0]]
                    .as_ref()
                    .map_or_else(|| vec![0.0; xs[at[0]].numel()], Tensor::to_vec),
                "hessian" => hess[at[0] * n + at[1]].to_vec(),
                "hvp" => hv[at[0]].to_vec(),
                other => panic!("unknown tag {other}"),
            };
            assert_close(&actual, expected, 1e-10, &what);
        }
    }
}

#[test]
fn vhp_equals_hvp_and_jacobian_has_pytorchs_block_shapes() {
    let f = |v: &[Tensor<f64>]| (&v[0].pow(3.0) * &v[1].sin()).sum();
    let (a, b) = (xv(), &xv() * 0.3);
    let (va, vb) = (tangents_like(&a), weights_like(&b));
    let (out, h1) = hvp(f, &[&a, &b], &[&va, &vb]).unwrap();
    let (_, h2) = vhp(f, &[&a, &b], &[&va, &vb]).unwrap();
    assert!(!out.requires_grad());
    for (p, q) in h1.iter().zip(&h2) {
        assert_eq!(p.to_vec(), q.to_vec());
    }
    let j = jacobian(|v| v[0].matmul(&v[1]), &[&x(), &w2()]).unwrap();
    assert_eq!(j[0].shape(), &[3, 2, 3, 4]);
    assert_eq!(j[1].shape(), &[3, 2, 4, 2]);
    let h = hessian(|v| (&v[0] * &v[1]).sum(), &[&xv(), &xv()]).unwrap();
    assert_eq!(h.len(), 4);
    assert_eq!(h[1].shape(), &[4, 4]);
}

#[test]
fn create_graph_backward_accumulates_a_differentiable_gradient() {
    // f = Σ x³ y: df/dx = 3x²y, d²f/dx² ·1 = 6xy.
    let x = t(&[1.0, 2.0], &[2]).requires_grad_(true);
    let y = t(&[3.0, -1.0], &[2]).requires_grad_(true);
    let f = (&x.pow(3.0) * &y).sum();
    f.backward_with_options(BackwardOptions {
        create_graph: true,
        retain_graph: false,
    });
    let gx = x.grad().unwrap();
    assert_eq!(gx.to_vec(), vec![9.0, -12.0]);
    assert!(gx.requires_grad(), "the gradient has a graph of its own");
    x.clear_grad();
    y.clear_grad();
    gx.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![18.0, -12.0]); // 6xy
    assert_eq!(y.grad().unwrap().to_vec(), vec![3.0, 12.0]); // 3x²
                                                             // Without create_graph, the gradient is a plain leaf.
    let z = t(&[1.0], &[1]).requires_grad_(true);
    z.pow(2.0).sum().backward();
    assert!(!z.grad().unwrap().requires_grad());
}

#[test]
fn create_graph_works_under_no_grad_and_to_third_order() {
    let x = t(&[0.7], &[1]).requires_grad_(true);
    let f = x.sin().sum();
    let g1 = tapegrad::no_grad(|| autograd::grad(&[&f], &[&x], None, true, true)).unwrap();
    let g2 = autograd::grad(&[&g1[0].sum()], &[&x], None, true, true).unwrap();
    let g3 = autograd::grad(&[&g2[0].sum()], &[&x], None, false, false).unwrap();
    assert_close(&g1[0].to_vec(), &[0.7f64.cos()], 1e-15, "sin'");
    assert_close(&g2[0].to_vec(), &[-(0.7f64.sin())], 1e-15, "sin''");
    assert_close(&g3[0].to_vec(), &[-(0.7f64.cos())], 1e-15, "sin'''");
}

#[test]
fn grad_errors_are_pytorchs() {
    let x = t(&[1.0, 2.0], &[2]).requires_grad_(true);
    let unused = t(&[1.0], &[1]).requires_grad_(true);
    let y = x.pow(2.0);
    let e = autograd::grad(&[&y], &[&x], None, false, true)
        .unwrap_err()
        .to_string();
    assert!(e.contains("scalar outputs"), "{e}");
    let s = y.sum();
    let e = autograd::grad(&[&s], &[&x, &unused], None, false, true)
        .unwrap_err()
        .to_string();
    assert!(e.contains("allow_unused"), "{e}");
    let e = autograd::grad(&[&s], &[&t(&[1.0], &[1])], None, false, true)
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not require grad"), "{e}");
    let wrong = t(&[1.0], &[1]);
    assert!(autograd::grad(&[&y], &[&x], Some(&[&wrong]), false, true).is_err());
    // grad_outputs weight a non-scalar output.
    let g = autograd::grad(&[&y], &[&x], Some(&[&t(&[1.0, 10.0], &[2])]), false, true).unwrap();
    assert_eq!(g[0].to_vec(), vec![2.0, 40.0]);
    // A freed graph cannot be differentiated again.
    let z = x.exp().sum();
    autograd::grad(&[&z], &[&x], None, false, false).unwrap();
    let e = autograd::grad(&[&z], &[&x], None, false, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("second time"), "{e}");
    // Nothing was accumulated by any of it.
    assert!(x.grad().is_none() && unused.grad().is_none());
}

#[test]
fn a_derivative_tapegrad_lacks_is_an_error_not_a_zero() {
    // cumprod's second derivative, and prod's third, are not written.
    let x = t(&[1.0, 2.0, 3.0], &[3]).requires_grad_(true);
    let g = autograd::grad(&[&x.cumprod(0).sum()], &[&x], None, true, true).unwrap();
    let e = autograd::grad(&[&g[0].sum()], &[&x], None, false, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not implemented"), "{e}");
    let g1 = autograd::grad(&[&x.prod()], &[&x], None, true, true).unwrap();
    let g2 = autograd::grad(&[&g1[0].sum()], &[&x], None, true, true).unwrap();
    assert_eq!(g2[0].to_vec(), vec![5.0, 4.0, 3.0]); // Σⱼ≠ᵢ Πₖ≠ᵢ,ⱼ: (3+2, 3+1, 2+1)
    let e = autograd::grad(&[&g2[0].sum()], &[&x], None, false, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not implemented"), "{e}");
}

#[test]
fn hooks_see_and_replace_gradients() {
    use std::sync::{Arc, Mutex};
    let x = t(&[1.0, 2.0], &[2]).requires_grad_(true);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let on_leaf = x.register_hook(move |g| {
        log.lock().unwrap().push(g.to_vec());
        None
    });
    let h = &x * 3.0;
    let doubling = h.register_hook(|g| Some(g * 2.0));
    // x is used twice: its hook sees the sum of both parts, once.
    (&h.sum() + &x.sum()).backward();
    assert_eq!(*seen.lock().unwrap(), vec![vec![7.0, 7.0]]);
    assert_eq!(x.grad().unwrap().to_vec(), vec![7.0, 7.0]);
    doubling.remove();
    on_leaf.remove();
    x.clear_grad();
    (&(&x * 3.0).sum() + &x.sum()).backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![4.0, 4.0]);
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "the removed hook was not called"
    );
    // A hook may not change the shape; the error leaves .grad as it was.
    let _bad = x.register_hook(|_| Some(Tensor::zeros(&[3])));
    let e = (&x * 2.0).sum().try_backward().unwrap_err().to_string();
    assert!(e.contains("register_hook"), "{e}");
    assert_eq!(x.grad().unwrap().to_vec(), vec![4.0, 4.0]);
    // autograd::grad runs hooks too.
    let y = t(&[1.0], &[1]).requires_grad_(true);
    let _tripled = y.register_hook(|g| Some(g * 3.0));
    let g = autograd::grad(&[&(&y * 2.0).sum()], &[&y], None, false, false).unwrap();
    assert_eq!(g[0].to_vec(), vec![6.0]);
}

/// One function written for both tensors and graph nodes.
macro_rules! both {
    ($($name:literal => |$a:ident, $b:ident| $body:expr;)*) => {
        vec![$((
            $name,
            (|$a: &Tensor<f64>, $b: &Tensor<f64>| -> Tensor<f64> { $body }) as fn(&Tensor<f64>, &Tensor<f64>) -> Tensor<f64>,
            (|$a: &Node<f64>, $b: &Node<f64>| -> Node<f64> { $body }) as fn(&Node<f64>, &Node<f64>) -> Node<f64>,
        ),)*]
    };
}

use tapegrad::graph::{Graph, Node, Session};

#[test]
fn the_static_graph_differentiates_its_gradients_like_eager() {
    let cases = both! {
        "poly_sin" => |a, b| (&a.pow(3.0) * &b.sin()).sum();
        "matmul_tanh" => |a, b| a.matmul(&b.t()).tanh().sum();
        "logsumexp" => |a, b| (&a.logsumexp(1, false) * &b.sum_dim(1, false)).sum();
        "var_gelu" => |a, b| &a.var() + &(a * b).gelu().sum();
        "maximum_sq" => |a, b| a.maximum(b).pow(2.0).sum();
        "mean_div" => |a, b| (a / &(b.pow(2.0) + 1.0)).pow(2.0).mean();
        "softsign_cumsum" => |a, b| (&a.softsign() * &b.cumsum(1)).sum();
    };
    for (name, eager, graph) in cases {
        let (a, b) = (x(), y());
        let (va, vb) = (tangents_like(&a), weights_like(&b));
        let (_, expected) = vhp(|v| eager(&v[0], &v[1]), &[&a, &b], &[&va, &vb]).unwrap();

        let g = Graph::<f64>::new();
        let (na, nb) = (g.placeholder("a", &[3, 4]), g.placeholder("b", &[3, 4]));
        let f = graph(&na, &nb);
        let first = g.gradients(&f, &[&na, &nb]);
        let (ca, cb) = (g.constant(&va), g.constant(&vb));
        let dot = &(&first[0] * &ca).sum() + &(&first[1] * &cb).sum();
        let second = g.gradients(&dot, &[&na, &nb]);
        let out = Session::new(&g)
            .run(&[&second[0], &second[1]], &[(&na, &a), (&nb, &b)])
            .unwrap();
        for i in 0..2 {
            assert_close(
                &out[i].to_vec(),
                &expected[i].to_vec(),
                1e-12,
                &format!("{name} {i}"),
            );
        }
    }
}
