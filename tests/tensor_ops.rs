//! Forward values of every op against PyTorch, on contiguous, transposed and broadcast
//! inputs, plus error messages and edge cases (scalars, empty tensors).
//!
//! The expected numbers were printed by PyTorch 2.15 (float64) with:
//! ```python
//! import torch
//! def L(t): return [float(v) for v in t.detach().reshape(-1).tolist()]
//! a = torch.tensor([[0.5, -1.0, 2.0], [3.0, -0.25, 1.5]], dtype=torch.float64)
//! b = torch.tensor([2.0, -4.0, 0.5], dtype=torch.float64)
//! c = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=torch.float64)
//! col = torch.tensor([[2.0], [-1.0]], dtype=torch.float64)
//! print(L(a + b), L(a - b), L(a * b), L(a / b), L(a + col), L(a.t() + c), L(a.t() * c))
//! print(L(a.exp()), L(a.abs().log()), L(a.abs().sqrt()), L(a.relu()), L(a.sigmoid()), L(a.tanh()), L(a.pow(3)))
//! print(L(a.sum()), L(a.mean()), L(a.sum(0)), L(a.sum(1, keepdim=True)), L(a.mean(0)), L(a.t().mean(1)))
//! print(a.max(1), a.t().max(1))
//! print(L(a @ c), L(c.t().mm(a.t())), L(a.matmul(b)), L(b.matmul(c)), L(b.matmul(b)))
//! bat = torch.arange(24, dtype=torch.float64).reshape(2, 3, 4) / 10
//! print(L(bat.matmul(torch.arange(8, dtype=torch.float64).reshape(4, 2))))
//! print(L(0.5 * a), L(a / 4), L(1 - a), L(2 / a), L(a - 3))
//! ```

// The numbers are PyTorch's output, kept as printed (some happen to equal ln 2, 1/√2, ...).
#![allow(clippy::approx_constant)]

use tapegrad::{Error, ErrorKind, Tensor};

fn a() -> Tensor<f64> {
    Tensor::from_vec(vec![0.5, -1.0, 2.0, 3.0, -0.25, 1.5], &[2, 3])
}
fn b() -> Tensor<f64> {
    Tensor::from_vec(vec![2.0, -4.0, 0.5], &[3])
}
fn c() -> Tensor<f64> {
    Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2])
}

#[track_caller]
fn assert_close(actual: &Tensor<f64>, expected: &[f64]) {
    let got = actual.to_vec();
    assert_eq!(got.len(), expected.len(), "length of {actual}");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            (g - e).abs() <= 1e-12 * e.abs().max(1.0),
            "element {i}: got {g}, PyTorch gave {e}\n{actual}"
        );
    }
}

#[test]
fn should_broadcast_binary_ops_like_pytorch() {
    assert_close(&(a() + b()), &[2.5, -5.0, 2.5, 5.0, -4.25, 2.0]);
    assert_close(&(a() - b()), &[-1.5, 3.0, 1.5, 1.0, 3.75, 1.0]);
    assert_close(&(a() * b()), &[1.0, 4.0, 1.0, 6.0, 1.0, 0.75]);
    assert_close(&(a() / b()), &[0.25, 0.25, 4.0, 1.5, 0.0625, 3.0]);
    let col = Tensor::from_vec(vec![2.0, -1.0], &[2, 1]);
    assert_close(&(a() + &col), &[2.5, 1.0, 4.0, 2.0, -1.25, 0.5]);
    // The broadcast operand on the left works the same.
    assert_close(&(&col + a()), &[2.5, 1.0, 4.0, 2.0, -1.25, 0.5]);
}

#[test]
fn should_compute_on_transposed_views() {
    let at = a().t();
    assert!(!at.is_contiguous());
    assert_eq!(at.shape(), &[3, 2]);
    assert_close(&(&at + c()), &[1.5, 5.0, 2.0, 3.75, 7.0, 7.5]);
    assert_close(&(&at * c()), &[0.5, 6.0, -3.0, -1.0, 10.0, 9.0]);
    assert_close(
        &at.exp(),
        &[
            0.5f64.exp(),
            3f64.exp(),
            (-1f64).exp(),
            (-0.25f64).exp(),
            2f64.exp(),
            1.5f64.exp(),
        ],
    );
    assert_close(&at.contiguous(), &[0.5, 3.0, -1.0, -0.25, 2.0, 1.5]);
    assert!(at.contiguous().is_contiguous());
}

#[test]
fn should_match_pytorch_unary_ops() {
    let a = a();
    assert_close(
        &a.exp(),
        &[
            1.6487212707001282,
            0.36787944117144233,
            7.38905609893065,
            20.085536923187668,
            0.7788007830714049,
            4.4816890703380645,
        ],
    );
    assert_close(
        &a.abs().log(),
        &[
            -0.6931471805599453,
            0.0,
            0.6931471805599453,
            1.0986122886681098,
            -1.3862943611198906,
            0.4054651081081644,
        ],
    );
    assert_close(
        &a.abs().sqrt(),
        &[
            0.7071067811865476,
            1.0,
            1.4142135623730951,
            1.7320508075688772,
            0.5,
            1.224744871391589,
        ],
    );
    assert_close(
        &a.abs().pow(0.5),
        &[
            0.7071067811865476,
            1.0,
            1.4142135623730951,
            1.7320508075688772,
            0.5,
            1.224744871391589,
        ],
    );
    assert_close(&a.relu(), &[0.5, 0.0, 2.0, 3.0, 0.0, 1.5]);
    assert_close(
        &a.sigmoid(),
        &[
            0.6224593312018546,
            0.2689414213699951,
            0.8807970779778823,
            0.9525741268224334,
            0.43782349911420193,
            0.8175744761936437,
        ],
    );
    assert_close(
        &a.tanh(),
        &[
            0.46211715726000974,
            -0.7615941559557649,
            0.9640275800758169,
            0.9950547536867305,
            -0.24491866240370913,
            0.9051482536448664,
        ],
    );
    assert_close(&a.pow(3.0), &[0.125, -1.0, 8.0, 27.0, -0.015625, 3.375]);
    assert_close(&(-&a), &[-0.5, 1.0, -2.0, -3.0, 0.25, -1.5]);
}

#[test]
fn should_apply_scalars_on_either_side() {
    let a = a();
    assert_close(&(0.5 * &a), &[0.25, -0.5, 1.0, 1.5, -0.125, 0.75]);
    assert_close(&(&a * 0.5), &[0.25, -0.5, 1.0, 1.5, -0.125, 0.75]);
    assert_close(&(&a / 4.0), &[0.125, -0.25, 0.5, 0.75, -0.0625, 0.375]);
    assert_close(&(1.0 - &a), &[0.5, 2.0, -1.0, -2.0, 1.25, -0.5]);
    assert_close(
        &(2.0 / &a),
        &[4.0, -2.0, 1.0, 0.6666666666666666, -8.0, 1.3333333333333333],
    );
    assert_close(&(&a - 3.0), &[-2.5, -4.0, -1.0, 0.0, -3.25, -1.5]);
    assert_close(&(3.0 + a.clone()), &[3.5, 2.0, 5.0, 6.0, 2.75, 4.5]);
    let f: Tensor = Tensor::from_vec(vec![1.0, 2.0], &[2]);
    assert_eq!((0.5f32 * &f + 1.0).to_vec(), vec![1.5, 2.0]);
}

#[test]
fn should_reduce_like_pytorch() {
    let a = a();
    assert_close(&a.sum(), &[5.75]);
    assert_eq!(a.sum().shape(), &[] as &[usize]);
    assert_close(&a.mean(), &[0.9583333333333334]);
    assert_close(&a.sum_dim(0, false), &[3.5, -1.25, 3.5]);
    let kept = a.sum_dim(1, true);
    assert_eq!(kept.shape(), &[2, 1]);
    assert_close(&kept, &[1.5, 4.25]);
    assert_close(&a.mean_dim(0, false), &[1.75, -0.625, 1.75]);
    assert_close(&a.t().mean_dim(1, false), &[1.75, -0.625, 1.75]);
    let (values, indices) = a.max_dim(1, false);
    assert_close(&values, &[2.0, 3.0]);
    assert_eq!(indices.to_vec(), vec![2, 0]);
    let (values, indices) = a.t().max_dim(1, false);
    assert_close(&values, &[3.0, -0.25, 2.0]);
    assert_eq!(indices.to_vec(), vec![1, 1, 0]);
    assert_eq!(a.argmax_dim(0, true).to_vec(), vec![1, 1, 0]);
}

#[test]
fn should_multiply_matrices_in_every_form() {
    assert_close(&a().mm(&c()), &[7.5, 9.0, 9.75, 14.0]);
    // Both operands transposed views: passed to the kernel as strides.
    assert_close(&c().t().mm(&a().t()), &[7.5, 9.75, 9.0, 14.0]);
    assert_close(&a().matmul(&b()), &[6.0, 7.75]);
    assert_eq!(a().matmul(&b()).shape(), &[2]);
    assert_close(&b().matmul(&c()), &[-7.5, -9.0]);
    assert_close(&b().matmul(&b()), &[20.25]);
    assert_eq!(b().matmul(&b()).shape(), &[] as &[usize]);
    let batch = Tensor::<f64>::arange(0.0, 24.0, 1.0).reshape(&[2, 3, 4]) / 10.0;
    let w = Tensor::<f64>::arange(0.0, 8.0, 1.0).reshape(&[4, 2]);
    let out = batch.matmul(&w);
    assert_eq!(out.shape(), &[2, 3, 2]);
    assert_close(
        &out,
        &[
            2.8,
            3.4000000000000004,
            7.6,
            9.8,
            12.4,
            16.200000000000003,
            17.2,
            22.6,
            22.0,
            29.0,
            26.799999999999997,
            35.4,
        ],
    );
    // Broadcast batch dims: [2, 1, 3, 4] x [5, 4, 2] -> [2, 5, 3, 2].
    let left = Tensor::<f64>::ones(&[2, 1, 3, 4]);
    let right = Tensor::<f64>::ones(&[5, 4, 2]);
    let out = left.matmul(&right);
    assert_eq!(out.shape(), &[2, 5, 3, 2]);
    assert!(out.to_vec().iter().all(|&v| v == 4.0));
}

#[test]
fn should_make_views_without_copying() {
    let x = Tensor::<f32>::arange(0.0, 24.0, 1.0).reshape(&[2, 3, 4]);
    let p = x.permute(&[2, 0, 1]);
    assert_eq!(p.shape(), &[4, 2, 3]);
    assert_eq!(p.strides(), &[1, 12, 4]);
    assert_eq!(p.to_vec()[..6], [0.0, 4.0, 8.0, 12.0, 16.0, 20.0]);
    let tr = x.transpose(0, 2);
    assert_eq!(tr.shape(), &[4, 3, 2]);
    assert_eq!(tr.strides(), &[1, 4, 12]);
    let row: Tensor = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]);
    let wide = row.broadcast_to(&[2, 3]);
    assert_eq!(wide.strides(), &[0, 1]);
    assert_eq!(wide.to_vec(), vec![1.0, 2.0, 3.0, 1.0, 2.0, 3.0]);
    // Reshaping a non-contiguous view copies; the values follow the logical order.
    assert_eq!(tr.reshape(&[24]).to_vec()[..4], [0.0, 12.0, 4.0, 16.0]);
    assert_eq!(x.unsqueeze(1).shape(), &[2, 1, 3, 4]);
    assert_eq!(x.unsqueeze(1).squeeze_dim(1).shape(), &[2, 3, 4]);
}

#[test]
fn should_create_tensors() {
    assert_eq!(
        Tensor::<f32>::eye(3).to_vec(),
        vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    );
    assert_eq!(
        Tensor::<f64>::arange(1.0, 2.0, 0.5).to_vec(),
        vec![1.0, 1.5]
    );
    assert_eq!(
        Tensor::<f64>::arange(3.0, 0.0, -1.0).to_vec(),
        vec![3.0, 2.0, 1.0]
    );
    assert_eq!(Tensor::<f32>::full(&[2], 7.0).to_vec(), vec![7.0, 7.0]);
    assert_eq!(Tensor::<f32>::scalar(2.0).item(), 2.0);
    let z = a().zeros_like();
    assert_eq!((z.shape(), z.sum().item()), (&[2usize, 3][..], 0.0));
    assert_eq!(a().ones_like().sum().item(), 6.0);
    tapegrad::manual_seed(42);
    let r = Tensor::<f64>::rand(&[1000]).to_vec();
    assert!(r.iter().all(|&v| (0.0..1.0).contains(&v)));
    let n = Tensor::<f64>::randn(&[10_000]);
    let (mean, var) = (n.mean().item(), n.pow(2.0).mean().item());
    assert!(
        mean.abs() < 0.05 && (var - 1.0).abs() < 0.05,
        "N(0,1) sample: mean {mean}, var {var}"
    );
}

#[test]
fn should_handle_scalars_and_empty_tensors() {
    let s = Tensor::<f64>::scalar(3.0);
    assert_eq!((&s * &a()).shape(), &[2, 3]);
    assert_eq!((s.clone() + 1.0).item(), 4.0);
    let empty = Tensor::<f64>::zeros(&[0, 3]);
    assert_eq!((&empty + &b()).shape(), &[0, 3]);
    assert_eq!(empty.sum().item(), 0.0);
    assert_eq!(empty.sum_dim(0, false).to_vec(), vec![0.0, 0.0, 0.0]);
    assert!(empty.mean().item().is_nan());
    assert_eq!(empty.mm(&Tensor::zeros(&[3, 2])).shape(), &[0, 2]);
    // k = 0: a [2, 0] x [0, 2] product is all zeros.
    assert_eq!(
        Tensor::<f64>::zeros(&[2, 0])
            .mm(&Tensor::zeros(&[0, 2]))
            .to_vec(),
        vec![0.0; 4]
    );
    assert_eq!(Tensor::<f32>::zeros(&[0]).to_string(), "tensor([])");
}

#[test]
fn should_name_the_op_and_shapes_in_errors() {
    let msg = |r: Result<Tensor<f64>, Error>| r.unwrap_err().to_string();
    assert_eq!(
        msg(a().try_mm(&a())),
        "mm: cannot multiply [2, 3] by [2, 3]: inner dimensions 3 and 2 differ"
    );
    assert_eq!(
        msg(a().try_mm(&b())),
        "mm: expected 2-D tensors, got [2, 3] and [3]"
    );
    assert_eq!(
        msg(a().try_add(&c())),
        "add: cannot broadcast [2, 3] with [3, 2]: dim 3 does not match dim 2"
    );
    assert_eq!(
        msg(a().try_matmul(&a())),
        "matmul: cannot multiply [2, 3] by [2, 3]: inner dimensions 3 and 2 differ"
    );
    assert_eq!(
        msg(a().try_reshape(&[4])),
        "reshape: cannot reshape [2, 3] (6 elements) to [4] (4 elements)"
    );
    assert_eq!(
        msg(a().try_sum_dim(2, false)),
        "sum_dim: dim 2 is out of range for a tensor of shape [2, 3] (expected -2..=1)"
    );
    assert_eq!(
        msg(a().try_transpose(0, 5)),
        "transpose: dim 5 is out of range for a tensor of shape [2, 3] (expected -2..=1)"
    );
    assert_eq!(
        msg(a().try_permute(&[0, 0])),
        "permute: [0, 0] is not a permutation of the dims of [2, 3]"
    );
    assert_eq!(
        msg(a().try_broadcast_to(&[3, 3])),
        "broadcast_to: cannot broadcast [2, 3] to [3, 3]"
    );
    assert_eq!(
        msg(Tensor::<f64>::zeros(&[2, 0])
            .try_max_dim(1, false)
            .map(|p| p.0)),
        "max_dim: cannot take the max of an empty dim 1 of [2, 0]"
    );
    let e = Tensor::<f32>::try_from_vec(vec![1.0, 2.0, 3.0], &[2, 2]).unwrap_err();
    assert_eq!((e.kind(), e.op()), (ErrorKind::Shape, "from_vec"));
    assert_eq!(
        e.to_string(),
        "from_vec: 3 values cannot fill shape [2, 2] (4 elements)"
    );
    assert_eq!(
        a().try_item().unwrap_err().to_string(),
        "item: a tensor with 6 elements (shape [2, 3]) cannot be converted to a scalar"
    );
    assert!(Tensor::<f32>::try_arange(0.0, 1.0, 0.0).is_err());
    assert!(Tensor::<f32>::try_arange(0.0, 1.0, -1.0).is_err());
}

#[test]
fn plain_ops_panic_with_the_error_text() {
    let payload = std::panic::catch_unwind(|| a().mm(&a())).unwrap_err();
    let text = payload.downcast_ref::<String>().expect("a String payload");
    assert_eq!(
        text,
        "mm: cannot multiply [2, 3] by [2, 3]: inner dimensions 3 and 2 differ"
    );
    let payload = std::panic::catch_unwind(|| a() + c()).unwrap_err();
    assert_eq!(
        payload.downcast_ref::<String>().unwrap(),
        "add: cannot broadcast [2, 3] with [3, 2]: dim 3 does not match dim 2"
    );
}

#[test]
fn should_update_in_place_through_views() {
    let w = Tensor::<f64>::zeros(&[2, 3]);
    w.t().add_(&Tensor::from_vec(
        vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        &[3, 2],
    ));
    assert_eq!(w.to_vec(), vec![1.0, 3.0, 5.0, 2.0, 4.0, 6.0]);
    w.sub_(&b());
    assert_eq!(w.to_vec(), vec![-1.0, 7.0, 4.5, 0.0, 8.0, 5.5]);
    w.mul_(&w.clone()); // aliasing its own storage is fine
    assert_eq!(w.to_vec(), vec![1.0, 49.0, 20.25, 0.0, 64.0, 30.25]);
    w.fill_(2.0);
    w.div_(&Tensor::scalar(4.0));
    assert_eq!(w.to_vec(), vec![0.5; 6]);
    let e = w.try_sub_(&c()).unwrap_err();
    assert_eq!(e.to_string(), "sub_: cannot broadcast [3, 2] to [2, 3]");
    let wide = b().broadcast_to(&[2, 3]);
    assert!(wide
        .try_add_(&a())
        .unwrap_err()
        .to_string()
        .contains("broadcast view"));
}

#[test]
fn should_print_like_pytorch() {
    // >>> print(torch.tensor([[0.5, -1.0, 2.0], [3.0, -0.25, 1.5]]))
    let a: Tensor = Tensor::from_vec(vec![0.5, -1.0, 2.0, 3.0, -0.25, 1.5], &[2, 3]);
    assert_eq!(
        a.to_string(),
        "tensor([[ 0.5000, -1.0000,  2.0000],\n        [ 3.0000, -0.2500,  1.5000]])"
    );
    let big: Tensor = Tensor::from_vec(vec![1e-5, 1e3], &[2]);
    assert_eq!(big.to_string(), "tensor([1.0000e-05, 1.0000e+03])");
    assert_eq!(
        format!("{:?}", Tensor::<f64>::scalar(1.0)),
        "Tensor(shape=[], tensor(1., dtype=torch.float64))"
    );
}
