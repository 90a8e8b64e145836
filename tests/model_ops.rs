//! The ops every model reaches for (issue 7), checked against PyTorch: values and
//! gradients in f64 (to 1e-10) and f32, on the inputs of `fixtures/model_ops_reference.py`
//! (its Python is beside each case there), then in the static graph (the same values and
//! `Graph::gradients` as eager backward).

#[path = "support/close.rs"]
mod close;
#[path = "support/reference.rs"]
mod reference;

use close::assert_close;
use tapegrad::graph::{Graph, Node, Session};
use tapegrad::{Float, Tensor};

#[path = "support/generator.rs"]
mod generator;
// Every test here may draw from the seeded global generator, so each takes its turn.
use generator::take_turn;

const X: [f64; 12] = [
    -2.5, -1.0, 0.0, 0.5, 1.0, 2.0, -0.3, 3.0, 0.7, -1.7, 2.2, 1.3,
];
const Y: [f64; 12] = [
    1.0, -1.0, 0.0, 2.0, 1.0, 0.5, -0.3, 4.0, 0.1, -1.7, 3.0, 1.3,
];
const T: [f64; 12] = [1.0, 3.0, 3.0, 0.0, 2.0, 2.0, 2.0, -1.0, 5.0, -4.0, 5.0, 0.0];
const Z: [f64; 9] = [2.0, 0.0, 3.0, 0.0, 0.0, 1.5, 1.0, 2.0, 4.0];
const E: [f64; 6] = [1.0, f64::NAN, f64::INFINITY, -2.0, f64::NEG_INFINITY, 0.0];
const NEG: [f64; 6] = [
    f64::NEG_INFINITY,
    f64::NEG_INFINITY,
    1.0,
    f64::NEG_INFINITY,
    f64::INFINITY,
    0.0,
];
const MASK: [bool; 12] = [
    true, false, true, false, false, false, true, true, true, true, false, false,
];

fn reference() -> Vec<reference::Case> {
    reference::parse(include_str!("fixtures/model_ops_reference.txt"))
}

fn tensor<E: Float>(values: &[f64], shape: &[usize]) -> Tensor<E> {
    Tensor::from_vec(values.iter().map(|&v| E::from(v).unwrap()).collect(), shape)
}

fn inputs<E: Float>(name: &str) -> Vec<Tensor<E>> {
    let x = tensor::<E>(&X, &[3, 4]);
    let p = tensor::<E>(&X.map(|v| v.abs() + 0.5), &[3, 4]);
    let y = tensor::<E>(&Y, &[3, 4]);
    let t = tensor::<E>(&T, &[3, 4]);
    let z = tensor::<E>(&Z, &[3, 3]);
    match name {
        "recip" | "rsqrt" | "log1p" | "log2" | "log10" => vec![p],
        "pow_tensor" => vec![p, y],
        "maximum_broadcast" => vec![x, y.narrow(0, 0, 1).reshape(&[4]).contiguous()],
        "pow_tensor_zero_base"
        | "maximum"
        | "minimum"
        | "cat"
        | "cat_dim1"
        | "stack"
        | "scatter_add"
        | "where_cond" => vec![x, y],
        "max_all_ties" | "min_all_ties" | "max_dim_values" | "min_dim_values" | "sort_values" => {
            vec![t]
        }
        "prod_dim_zeros" | "prod_dim0_zeros" | "cumprod_zeros" => vec![z],
        "relu_nan" => vec![tensor(&[f64::NAN, -1.0, 2.0, 0.0], &[4])],
        "edge_maximum_nan_inf" => vec![tensor(&E, &[6]), tensor(&E.map(|v| v), &[6]).flip(&[0])],
        "edge_max_nan" | "edge_sort_nan_inf" | "edge_sort_desc_nan_inf" => vec![tensor(&E, &[6])],
        "edge_cumsum_inf" | "edge_clamp_inf" | "edge_gelu_inf" | "edge_log_sigmoid_inf" => {
            vec![tensor(&E.map(|v| if v.is_nan() { 0.5 } else { v }), &[6])]
        }
        "edge_logsumexp_neg_inf" => vec![tensor(&NEG, &[3, 2])],
        "edge_where_inf_branch" => vec![x.clone(), &x * E::infinity()],
        "edge_prod_empty" => vec![Tensor::zeros(&[2, 0])],
        "edge_cat_empty_part" => vec![x, Tensor::zeros(&[0, 4])],
        "edge_cumsum_empty" => vec![Tensor::zeros(&[0, 3])],
        "edge_sort_size1" => vec![x.narrow(1, 0, 1).contiguous()],
        "edge_pow_tensor_broadcast" => vec![p, y.narrow(1, 0, 1).contiguous()],
        "edge_where_broadcast" => vec![x, y.narrow(0, 0, 1).reshape(&[4]).contiguous()],
        _ => vec![x],
    }
}

fn index(values: &[i64], shape: &[usize]) -> Tensor<i64> {
    Tensor::from_vec(values.to_vec(), shape)
}

/// The tapegrad call for each case (the same names as the Python).
fn eager<E: Float>(name: &str, v: &[Tensor<E>]) -> Tensor<E> {
    let c = |f: f64| E::from(f).unwrap();
    let mask = Tensor::from_vec(MASK.to_vec(), &[3, 4]);
    let gidx = index(&[3, 0, 1, 1, 0, 2], &[3, 2]);
    let x = &v[0];
    match name {
        "sin" => x.sin(),
        "cos" => x.cos(),
        "tan" => (x * c(0.4)).tan(),
        "square" => x.square(),
        "recip" => x.recip(),
        "rsqrt" => x.rsqrt(),
        "log1p" => x.log1p(),
        "expm1" => x.expm1(),
        "log2" => x.log2(),
        "log10" => x.log10(),
        "exp2" => x.exp2(),
        "sign" => x.sign(),
        "floor" => (x * c(1.5)).floor(),
        "ceil" => (x * c(1.5)).ceil(),
        "round" => (x * c(2.0)).round(),
        "trunc" => (x * c(1.5)).trunc(),
        "leaky_relu" => x.leaky_relu(c(0.1)),
        "elu" => x.elu(c(1.3)),
        "selu" => x.selu(),
        "gelu" => x.gelu(),
        "gelu_tanh" => x.gelu_tanh(),
        "silu" => x.silu(),
        "mish" => x.mish(),
        "hardtanh" => x.hardtanh(c(-1.0), c(1.5)),
        "relu6" => (x * c(3.0)).relu6(),
        "log_sigmoid" => x.log_sigmoid(),
        "softsign" => x.softsign(),
        "clamp" => x.clamp(c(-1.0), c(2.0)),
        "pow_tensor" => x.pow_tensor(&v[1]),
        "pow_tensor_zero_base" => (x * c(0.0)).pow_tensor(&v[1].abs()),
        "maximum" | "maximum_broadcast" => x.maximum(&v[1]),
        "minimum" => x.minimum(&v[1]),
        "max_all_ties" => x.max(),
        "min_all_ties" => x.min(),
        "max_dim_values" => x.max_dim(1, false).0,
        "min_dim_values" => x.min_dim(0, false).0,
        "prod" => x.prod(),
        "prod_dim_zeros" => x.prod_dim(1, false),
        "prod_dim0_zeros" => x.prod_dim(0, true),
        "var" => x.var(),
        "std" => x.std(),
        "var_dim" => x.var_dim(0, false),
        "std_dim_keep" => x.std_dim(1, true),
        "logsumexp" => x.logsumexp(1, false),
        "logsumexp_dim0_keep" => x.logsumexp(0, true),
        "cumsum" => x.cumsum(1),
        "cumsum_dim0" => x.cumsum(0),
        "cumprod" | "cumprod_zeros" => x.cumprod(1),
        "norm" => x.norm(),
        "norm_dim" => x.norm_dim(0, false),
        "sort_values" => x.sort(1, true).0,
        "sort_values_dim0" => x.sort(0, false).0,
        "topk_values" => x.topk(2, 1).0,
        "cat" => Tensor::cat(&[x, &v[1].narrow(0, 0, 2)], 0),
        "cat_dim1" => Tensor::cat(&[x, &v[1], x], 1),
        "stack" => Tensor::stack(&[x, &v[1]], 1),
        "flip" => x.flip(&[0, 1]),
        "pad" => x.pad(&[(1, 0), (2, 1)], c(0.5)),
        "tril" => x.tril(0),
        "triu_1" => x.triu(1),
        "tril_neg" => x.tril(-1),
        "repeat" => x.repeat(&[2, 1, 2]),
        "index_select" => x.index_select(0, &index(&[2, 0, 2], &[3])),
        "index_select_dim1" => x.index_select(1, &index(&[3, 3, 1], &[3])),
        "gather" => x.gather(1, &gidx),
        "scatter_add" => x.scatter_add(1, &gidx, &v[1]),
        "masked_fill" => x.masked_fill(&mask, c(-7.0)),
        "where_cond" => mask.where_cond(x, &v[1]),
        "masked_select" => x.masked_select(&mask),
        "select" => x.select(1, 2),
        "index_i" => x.i((1.., 2)),
        "narrow_t" => x.t().narrow(0, 1, 2),
        "flatten" => x.reshape(&[3, 2, 2]).flatten(1, -1),
        "relu_nan" => x.relu(),
        "transposed_gelu" => x.t().gelu(),
        "transposed_cumsum" => x.t().cumsum(1),
        "transposed_sort" => x.t().sort(1, false).0,
        "transposed_logsumexp" => x.t().logsumexp(1, false),
        "edge_maximum_nan_inf" => x.maximum(&v[1]),
        "edge_max_nan" => x.max(),
        "edge_sort_nan_inf" => x.sort(0, false).0,
        "edge_sort_desc_nan_inf" => x.sort(0, true).0,
        "edge_cumsum_inf" => x.cumsum(0),
        "edge_logsumexp_neg_inf" => x.logsumexp(1, false),
        "edge_clamp_inf" => x.clamp(c(-1.0), c(1.0)),
        "edge_gelu_inf" => x.gelu(),
        "edge_log_sigmoid_inf" => x.log_sigmoid(),
        "edge_where_inf_branch" => mask.where_cond(x, &v[1]),
        "edge_prod_empty" => x.prod_dim(1, false),
        "edge_cat_empty_part" => Tensor::cat(&[x, &v[1]], 0),
        "edge_cumsum_empty" => x.cumsum(0),
        "edge_sort_size1" => x.sort(1, false).0,
        "edge_index_select_empty" => x.index_select(0, &index(&[], &[0])),
        "edge_pow_tensor_broadcast" => x.pow_tensor(&v[1]),
        "edge_where_broadcast" => mask.narrow(0, 0, 1).reshape(&[4]).where_cond(x, &v[1]),
        other => panic!("no tapegrad call for case {other}"),
    }
}

/// The same calls on graph nodes, for the ops whose graph form takes the same arguments
/// (`None` for those whose mask or index operand is a `Tensor` in eager mode only).
fn graph_call(name: &str, g: &Graph<f64>, v: &[Node<f64>]) -> Option<Node<f64>> {
    let x = &v[0];
    let mask = g.constant(&Tensor::from_vec(
        MASK.iter().map(|&m| if m { 1.0 } else { 0.0 }).collect(),
        &[3, 4],
    ));
    let gidx = g.constant(&Tensor::from_vec(
        vec![3.0, 0.0, 1.0, 1.0, 0.0, 2.0],
        &[3, 2],
    ));
    Some(match name {
        "masked_select" => x.masked_select(&mask),
        "sin" => x.sin(),
        "tan" => (x * 0.4).tan(),
        "recip" => x.recip(),
        "log2" => x.log2(),
        "floor" => (x * 1.5).floor(),
        "leaky_relu" => x.leaky_relu(0.1),
        "elu" => x.elu(1.3),
        "gelu" => x.gelu(),
        "gelu_tanh" => x.gelu_tanh(),
        "mish" => x.mish(),
        "hardtanh" => x.hardtanh(-1.0, 1.5),
        "log_sigmoid" => x.log_sigmoid(),
        "softsign" => x.softsign(),
        "pow_tensor" => x.pow_tensor(&v[1]),
        "pow_tensor_zero_base" => (x * 0.0).pow_tensor(&v[1].abs()),
        "maximum" | "maximum_broadcast" => x.maximum(&v[1]),
        "minimum" => x.minimum(&v[1]),
        "max_all_ties" => x.max(),
        "min_all_ties" => x.min(),
        "min_dim_values" => x.min_dim(0, false).0,
        "prod_dim_zeros" => x.prod_dim(1, false),
        "std_dim_keep" => x.std_dim(1, true),
        "var" => x.var(),
        "logsumexp" => x.logsumexp(1, false),
        "cumsum" => x.cumsum(1),
        "cumprod_zeros" => x.cumprod(1),
        "norm_dim" => x.norm_dim(0, false),
        "sort_values" => x.sort(1, true).0,
        "topk_values" => x.topk(2, 1).0,
        "cat_dim1" => Node::cat(&[x, &v[1], x], 1),
        "stack" => Node::stack(&[x, &v[1]], 1),
        "flip" => x.flip(&[0, 1]),
        "pad" => x.pad(&[(1, 0), (2, 1)], 0.5),
        "triu_1" => x.triu(1),
        "repeat" => x.repeat(&[2, 1, 2]),
        "index_select" => {
            x.index_select(0, &g.constant(&Tensor::from_vec(vec![2.0, 0.0, 2.0], &[3])))
        }
        "gather" => x.gather(1, &gidx),
        "scatter_add" => x.scatter_add(1, &gidx, &v[1]),
        "masked_fill" => x.masked_fill(&mask, -7.0),
        "where_cond" => mask.where_cond(x, &v[1]),
        "select" => x.select(1, 2),
        "index_i" => x.i((1.., 2)),
        "flatten" => x.reshape(&[3, 2, 2]).flatten(1, -1),
        "relu_nan" => x.relu(),
        _ => return None,
    })
}

/// `d sum(y * w) / d inputs`, the weights the Python uses.
fn weights<E: Float>(shape: &[usize]) -> Tensor<E> {
    let n: usize = shape.iter().product();
    tensor(
        (0..n)
            .map(|i| 1.0 + 0.1 * i as f64)
            .collect::<Vec<_>>()
            .as_slice(),
        shape,
    )
}

fn check<E: Float>(tol: f64) {
    let mut failures = Vec::new();
    for case in reference() {
        let name = case.name.clone();
        if let Err(e) = std::panic::catch_unwind(|| check_case::<E>(&case, tol)) {
            failures.push(format!("{name}: {}", panic_text(&e)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} cases differ from PyTorch:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn panic_text(e: &Box<dyn std::any::Any + Send>) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

fn check_case<E: Float>(case: &reference::Case, tol: f64) {
    {
        let xs: Vec<Tensor<E>> = inputs::<E>(&case.name)
            .into_iter()
            .map(|t| t.requires_grad_(true))
            .collect();
        let y = eager(&case.name, &xs);
        assert_eq!(y.shape(), case.shape.as_slice(), "{}: shape", case.name);
        let value: Vec<f64> = y.to_vec().iter().map(|v| v.to_f64().unwrap()).collect();
        assert_close_nan(&value, &case.value, tol, &format!("{} value", case.name));
        (&y * &weights::<E>(y.shape())).sum().backward();
        for (i, (x, expected)) in xs.iter().zip(&case.grads).enumerate() {
            let grad: Vec<f64> = match x.grad() {
                Some(g) => g.to_vec().iter().map(|v| v.to_f64().unwrap()).collect(),
                None => vec![0.0; x.numel()],
            };
            assert_close_nan(&grad, expected, tol, &format!("{} grad {i}", case.name));
        }
    }
}

/// `assert_close`, with NaN and infinities expected exactly where PyTorch gives them.
fn assert_close_nan(actual: &[f64], expected: &[f64], tol: f64, what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        if e.is_nan() {
            assert!(a.is_nan(), "{what}[{i}]: {a}, PyTorch gives NaN");
        } else if e.is_infinite() {
            assert_eq!(a, e, "{what}[{i}]");
        } else {
            assert_close(&[*a], &[*e], tol, &format!("{what}[{i}]"));
        }
    }
}

#[test]
fn values_and_gradients_match_pytorch_in_f64() {
    let _turn = take_turn();
    check::<f64>(1e-10);
}

#[test]
fn values_and_gradients_match_pytorch_in_f32() {
    let _turn = take_turn();
    check::<f32>(2e-5);
}

#[test]
fn the_static_graph_gives_the_same_values_and_gradients() {
    let _turn = take_turn();
    let mut checked = 0;
    for case in reference() {
        let g = Graph::<f64>::new();
        let eager_inputs = inputs::<f64>(&case.name);
        let nodes: Vec<Node<f64>> = eager_inputs
            .iter()
            .enumerate()
            .map(|(i, t)| g.placeholder(&format!("x{i}"), t.shape()))
            .collect();
        let Some(y) = graph_call(&case.name, &g, &nodes) else {
            continue;
        };
        let w = if y.static_shape().contains(&None) {
            // A length known only at run time (masked_select): the same weights, 1 + 0.1 i,
            // made in the graph.
            &((&y * 0.0 + 1.0).cumsum(0) - 1.0) * 0.1 + 1.0
        } else {
            g.constant(&weights::<f64>(y.shape()))
        };
        let loss = (&y * &w).sum();
        let refs: Vec<&Node<f64>> = nodes.iter().collect();
        let grads = g.gradients(&loss, &refs);
        let mut fetch: Vec<&Node<f64>> = vec![&y];
        fetch.extend(grads.iter());
        let feeds: Vec<(&Node<f64>, &Tensor<f64>)> =
            nodes.iter().zip(eager_inputs.iter()).collect();
        let out = Session::new(&g).run(&fetch, &feeds).unwrap();
        assert_close_nan(
            &out[0].to_vec(),
            &case.value,
            1e-10,
            &format!("{} graph value", case.name),
        );
        for (i, expected) in case.grads.iter().enumerate() {
            assert_close_nan(
                &out[1 + i].to_vec(),
                expected,
                1e-10,
                &format!("{} graph grad {i}", case.name),
            );
        }
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} cases ran in the graph");
}

#[test]
fn bad_input_is_a_clear_error_from_every_try_form() {
    let _turn = take_turn();
    use tapegrad::ErrorKind;
    let x: Tensor<f64> = Tensor::arange(0.0, 6.0, 1.0).reshape(&[2, 3]);
    let msg = |e: tapegrad::Error| e.to_string();
    // Indices out of range.
    let e = x.try_index_select(1, &index(&[0, 3], &[2])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Index);
    assert_eq!(
        msg(e),
        "index_select: index 3 is out of range for dim 1 of size 3"
    );
    assert!(x.try_index_select(0, &index(&[-1], &[1])).is_err());
    assert_eq!(
        msg(x.try_gather(1, &index(&[0, 5], &[2, 1])).unwrap_err()),
        "gather: index 5 is out of range for dim 1 of size 3"
    );
    assert_eq!(
        msg(x
            .try_scatter_add(0, &index(&[2, 0, 0], &[1, 3]), &x)
            .unwrap_err()),
        "scatter_add: index 2 is out of range for dim 0 of size 2"
    );
    assert_eq!(
        msg(x.try_select(1, 3).unwrap_err()),
        "select: index 3 is out of range for dim 1 of size 3 (shape [2, 3])"
    );
    assert_eq!(
        msg(x.try_i((0, 1..4)).unwrap_err()),
        "i: range 1..4 does not fit dim 0 of size 3 (shape [2, 3])"
    );
    assert!(x.try_i((2,)).is_err());
    // Shapes that do not fit.
    assert_eq!(
        msg(Tensor::try_cat(&[&x, &Tensor::zeros(&[2, 2])], 0).unwrap_err()),
        "cat: tensor 1 has shape [2, 2], which does not match [2, 3] outside dim 0"
    );
    assert_eq!(
        msg(Tensor::try_stack(&[&x, &x.t()], 0).unwrap_err()),
        "stack: value 1 has shape [3, 2], value 0 has [2, 3]: stack needs equal shapes"
    );
    assert!(Tensor::<f64>::try_cat(&[], 0).is_err());
    // k larger than the dim.
    assert_eq!(
        msg(x.try_topk(4, 1).unwrap_err()),
        "topk: k = 4 is larger than dim 1 of size 3 (shape [2, 3])"
    );
    // split and chunk with 0.
    assert_eq!(x.try_split(0, 1).unwrap_err().kind(), ErrorKind::Value);
    assert_eq!(
        msg(x.try_chunk(0, 1).unwrap_err()),
        "chunk: cannot split shape [2, 3] into 0 chunks"
    );
    // clamp with min > max.
    assert_eq!(x.try_clamp(2.0, 1.0).unwrap_err().kind(), ErrorKind::Value);
    assert_eq!(x.try_hardtanh(2.0, 1.0).unwrap_err().op(), "hardtanh");
    // A mask that does not broadcast.
    let mask = Tensor::from_vec(vec![true, false], &[2]);
    assert_eq!(
        msg(x.try_masked_fill(&mask, 0.0).unwrap_err()),
        "masked_fill: the mask's shape [2] does not broadcast with [2, 3] and [2, 3]"
    );
    assert_eq!(
        x.try_masked_select(&mask).unwrap_err().kind(),
        ErrorKind::Shape
    );
    assert_eq!(mask.try_where_cond(&x, &x).unwrap_err().op(), "where_cond");
    assert!(x.try_lt(&Tensor::zeros(&[4])).is_err());
    // Empty max, bad pads, bad flatten, randint range, one_hot class.
    assert!(Tensor::<f64>::zeros(&[0]).try_max().is_err());
    assert!(x.try_pad(&[(1, 1)], 0.0).is_err());
    assert!(x.try_flatten(1, 0).is_err());
    assert!(Tensor::try_randint(3, 3, &[2]).is_err());
    assert!(tapegrad::nn::functional::try_one_hot(&index(&[3], &[1]), 3).is_err());
    assert!(Tensor::<f64>::from_vec(vec![1.5], &[1])
        .try_bernoulli()
        .is_err());
    // The graph checks shapes while it is built.
    let g = Graph::<f64>::new();
    let a = g.placeholder("a", &[2, 3]);
    assert!(Node::try_cat(&[&a, &g.placeholder("b", &[2, 2])], 0).is_err());
    assert!(a.try_topk(4, 1).is_err());
}

#[test]
fn an_index_out_of_range_in_the_graph_fails_at_run_time_with_the_op_named() {
    let _turn = take_turn();
    let g = Graph::<f64>::new();
    let x = g.placeholder("x", &[3]);
    let i = g.placeholder("i", &[2]);
    let picked = x.index_select(0, &i);
    let xs = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]);
    let ok = Session::new(&g)
        .run(
            &[&picked],
            &[(&x, &xs), (&i, &Tensor::from_vec(vec![2.0, 0.0], &[2]))],
        )
        .unwrap();
    assert_eq!(ok[0].to_vec(), vec![3.0, 1.0]);
    let e = Session::new(&g)
        .run(
            &[&picked],
            &[(&x, &xs), (&i, &Tensor::from_vec(vec![3.0, 0.0], &[2]))],
        )
        .unwrap_err();
    assert!(e.to_string().contains("index 3 is out of range"), "{e}");
    let e = Session::new(&g)
        .run(
            &[&picked],
            &[(&x, &xs), (&i, &Tensor::from_vec(vec![0.5, 0.0], &[2]))],
        )
        .unwrap_err();
    assert!(e.to_string().contains("not a whole number"), "{e}");
}

#[test]
fn pytorch_leniencies() {
    let _turn = take_turn();
    let x: Tensor<f64> = Tensor::zeros(&[2, 3]);
    assert_eq!(x.squeeze_dim(0).shape(), &[2, 3]);
    let s = Tensor::<f64>::scalar(2.0);
    assert_eq!(s.sum_dim(0, false).item(), 2.0);
    assert_eq!(s.mean_dim(-1, true).item(), 2.0);
    assert_eq!(tapegrad::nn::functional::softmax(&s, 0).item(), 1.0);
    // cross_entropy takes i64 targets too, with the same loss.
    let logits: Tensor<f64> = Tensor::from_vec(vec![1.0, 2.0, 0.5, -1.0, 0.0, 3.0], &[2, 3]);
    let a = tapegrad::nn::functional::cross_entropy(&logits, &[1, 2]).item();
    let b = tapegrad::nn::functional::cross_entropy(&logits, &index(&[1, 2], &[2])).item();
    assert_eq!(a, b);
    // relu's gradient at NaN passes through, as PyTorch's threshold_backward.
    let n = Tensor::<f64>::from_vec(vec![f64::NAN, 1.0], &[2]).requires_grad_(true);
    n.relu().sum().backward();
    assert_eq!(n.grad().unwrap().to_vec(), vec![1.0, 1.0]);
}

#[test]
fn ties_split_the_gradient_as_pytorch() {
    let _turn = take_turn();
    // torch.tensor([3., 1., 3.], requires_grad=True).max().backward() -> grad [0.5, 0, 0.5]
    let x = Tensor::<f64>::from_vec(vec![3.0, 1.0, 3.0], &[3]).requires_grad_(true);
    x.max().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![0.5, 0.0, 0.5]);
    // torch.maximum(a, b) with a == b: each side gets half.
    let a = Tensor::<f64>::from_vec(vec![2.0, 1.0], &[2]).requires_grad_(true);
    let b = Tensor::<f64>::from_vec(vec![2.0, 0.0], &[2]).requires_grad_(true);
    a.maximum(&b).sum().backward();
    assert_eq!(a.grad().unwrap().to_vec(), vec![0.5, 1.0]);
    assert_eq!(b.grad().unwrap().to_vec(), vec![0.5, 0.0]);
}

#[test]
fn round_halves_to_even_and_sort_is_stable_with_nan_last() {
    let _turn = take_turn();
    let x = Tensor::<f64>::from_vec(vec![0.5, 1.5, 2.5, -0.5, -1.5], &[5]);
    assert_eq!(x.round().to_vec(), vec![0.0, 2.0, 2.0, -0.0, -2.0]);
    let y = Tensor::<f32>::from_vec(vec![2.0, f32::NAN, 1.0, 2.0, -0.0, 0.0], &[6]);
    let (v, i) = y.sort(0, false);
    assert_eq!(i.to_vec(), vec![4, 5, 2, 0, 3, 1]);
    assert!(v.to_vec()[5].is_nan());
    assert_eq!(y.sort(0, true).1.to_vec(), vec![1, 0, 3, 2, 4, 5]);
}

#[test]
fn random_creation_is_reproducible_from_the_seed() {
    let _turn = take_turn();
    tapegrad::manual_seed(7);
    let a = (
        Tensor::randint(-5, 5, &[6]),
        Tensor::randperm(6),
        Tensor::<f64>::normal(1.0, 2.0, &[3]),
    );
    tapegrad::manual_seed(7);
    let b = (
        Tensor::randint(-5, 5, &[6]),
        Tensor::randperm(6),
        Tensor::<f64>::normal(1.0, 2.0, &[3]),
    );
    assert_eq!(a.0.to_vec(), b.0.to_vec());
    assert_eq!(a.1.to_vec(), b.1.to_vec());
    assert_eq!(a.2.to_vec(), b.2.to_vec());
    assert!(a.0.to_vec().iter().all(|v| (-5..5).contains(v)));
    let p = Tensor::<f64>::full(&[1000], 0.25);
    let mean = p.bernoulli().mean().item();
    assert!((mean - 0.25).abs() < 0.06, "{mean}");
}

#[test]
fn an_empty_window_at_the_end_of_a_dim_works_in_every_op_after_it() {
    let _turn = take_turn();
    // `1..` of a dim of size 1 is empty; selecting in it used to point past the buffer.
    let x: Tensor<f64> = Tensor::ones(&[1, 3, 4]).requires_grad_(true);
    let y = x.i((1.., 2));
    assert_eq!(y.shape(), &[0, 4]);
    let z = (&y * &y).sum();
    assert_eq!(z.item(), 0.0);
    z.backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![0.0; 12]);
    assert_eq!(x.narrow(0, 1, 0).select(2, 3).exp().shape(), &[0, 3]);
}

#[test]
fn f32_cumsum_equals_a_one_by_one_f64_sum_at_every_length() {
    let _turn = take_turn();
    // The f32 kernel sums four elements at a time (AVX2); every length's remainder, and
    // infinities and NaN, must come out as the plain running sum in f64 does.
    for len in 0..19usize {
        for rows in [1usize, 3] {
            let values: Vec<f32> = (0..rows * len)
                .map(|i| match i % 11 {
                    7 if len > 9 => f32::INFINITY,
                    9 if len > 12 => f32::NAN,
                    k => (k as f32 - 4.5) * 0.37 + i as f32 * 1e-3,
                })
                .collect();
            let x = Tensor::<f32>::from_vec(values.clone(), &[rows, len]);
            let got = x.cumsum(1).to_vec();
            let mut expected = Vec::with_capacity(values.len());
            for lane in values.chunks(len.max(1)) {
                let mut acc = 0f64;
                for &v in lane {
                    acc += f64::from(v);
                    expected.push(acc as f32);
                }
            }
            let same = got
                .iter()
                .zip(&expected)
                .all(|(a, b)| a == b || (a.is_nan() && b.is_nan()));
            assert!(same, "len {len}, rows {rows}: {got:?} vs {expected:?}");
        }
    }
}
