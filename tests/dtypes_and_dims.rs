//! Integer and boolean tensors, conversions between element types, int64 indices, and
//! PyTorch's dims (negative dims, an inferred `-1`, `view`, `size`), with their errors.
//! Expected values are PyTorch's; the Python that gives each is beside it.

use tapegrad::{DType, ErrorKind, Tensor};

#[test]
fn integer_and_bool_tensors_are_made_shown_and_viewed() {
    // >>> t = torch.tensor([[1, -2, 3], [4, 5, -6]])
    let t = Tensor::<i64>::from_vec(vec![1, -2, 3, 4, 5, -6], &[2, 3]);
    assert_eq!(t.dtype(), DType::I64);
    assert_eq!(
        t.to_string(),
        "tensor([[ 1, -2,  3],\n        [ 4,  5, -6]])"
    );
    // >>> t.t(), t.reshape(3, -1), t.permute(1, 0).contiguous(), t.unsqueeze(-1).shape
    assert_eq!(t.t().to_vec(), vec![1, 4, -2, 5, 3, -6]);
    assert_eq!(t.reshape(&[3, -1]).shape(), &[3, 2]);
    assert_eq!(
        t.permute(&[1, 0]).contiguous().to_vec(),
        vec![1, 4, -2, 5, 3, -6]
    );
    assert_eq!(t.unsqueeze(-1).shape(), &[2, 3, 1]);
    assert_eq!(t.unsqueeze(-1).squeeze_dim(2).shape(), &[2, 3]);
    assert_eq!(t.transpose(-1, 0).shape(), &[3, 2]);
    // >>> torch.tensor([7, 8]).expand(2, 2)
    let row = Tensor::<i64>::from_vec(vec![7, 8], &[2]);
    assert_eq!(row.broadcast_to(&[2, 2]).to_vec(), vec![7, 8, 7, 8]);
    assert_eq!(Tensor::<i64>::ones(&[2]).to_vec(), vec![1, 1]);
    assert_eq!(Tensor::<i64>::full(&[1], 9).item(), 9);
    assert_eq!(Tensor::<i64>::scalar(-3).to_string(), "tensor(-3)");

    // >>> m = torch.tensor([True, False, True])
    let m = Tensor::<bool>::from_vec(vec![true, false, true], &[3]);
    assert_eq!(m.dtype(), DType::Bool);
    assert_eq!(m.to_string(), "tensor([ True, False,  True])");
    assert_eq!(m.reshape(&[3, 1]).t().to_vec(), vec![true, false, true]);
    assert_eq!(Tensor::<bool>::zeros(&[2]).to_vec(), vec![false, false]);
    assert!(!m.is_floating_point() && Tensor::<f64>::zeros(&[1]).is_floating_point());
}

#[test]
fn to_dtype_converts_like_tensor_to() {
    // >>> x = torch.tensor([-1.7, -0.5, 0., 0.5, 2.9, float('nan'), float('inf'), -float('inf')])
    // >>> x.to(torch.int64) -> tensor([-1, 0, 0, 0, 2, ?, ?, ?])   (NaN/inf: undefined in C++;
    //     tapegrad follows Rust's saturating `as`: NaN -> 0, inf -> i64::MAX, -inf -> i64::MIN)
    // >>> x.to(torch.bool)  -> tensor([True, True, False, True, True, True, True, True])
    let x = Tensor::<f32>::from_vec(
        vec![
            -1.7,
            -0.5,
            0.0,
            0.5,
            2.9,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ],
        &[8],
    );
    assert_eq!(
        x.to_dtype::<i64>().to_vec(),
        vec![-1, 0, 0, 0, 2, 0, i64::MAX, i64::MIN]
    );
    assert_eq!(
        x.to_dtype::<bool>().to_vec(),
        vec![true, true, false, true, true, true, true, true]
    );
    // >>> torch.tensor([True, False]).to(torch.float64) -> tensor([1., 0.])
    let m = Tensor::<bool>::from_vec(vec![true, false], &[2]);
    assert_eq!(m.to_dtype::<f64>().to_vec(), vec![1.0, 0.0]);
    assert_eq!(m.to_dtype::<i64>().to_vec(), vec![1, 0]);
    // >>> torch.tensor([3, 0, -2]).to(torch.float32) / .to(torch.bool)
    let i = Tensor::<i64>::from_vec(vec![3, 0, -2], &[3]);
    assert_eq!(i.to_dtype::<f32>().to_vec(), vec![3.0, 0.0, -2.0]);
    assert_eq!(i.to_dtype::<bool>().to_vec(), vec![true, false, true]);
    // f64 -> f32 rounds once, as PyTorch does.
    let d = Tensor::<f64>::from_vec(vec![0.1, 1e40], &[2]);
    assert_eq!(d.to_dtype::<f32>().to_vec(), vec![0.1f32, f32::INFINITY]);
    // Through a strided view, and to the same type (a cheap handle, like PyTorch's `to`).
    let t = Tensor::<f32>::from_vec(vec![1.5, 2.5, 3.5, 4.5], &[2, 2]);
    assert_eq!(t.t().to_dtype::<i64>().to_vec(), vec![1, 3, 2, 4]);
    assert_eq!(t.to_dtype::<f32>().to_vec(), t.to_vec());
    // The converted tensor is a new leaf: nothing flows back to a float source.
    let w = Tensor::<f32>::ones(&[2]).requires_grad_(true);
    assert!(!w.to_dtype::<f64>().requires_grad());
}

#[test]
fn argmax_and_argmin_give_int64_indices_with_the_first_on_ties() {
    // >>> a = torch.tensor([[1., 5., 5.], [7., 2., 7.]])
    // >>> a.argmax(1), a.argmax(0), a.argmin(1), a.argmax(), a.argmin()
    // (tensor([1, 0]), tensor([1, 0, 1]), tensor([0, 1]), tensor(3), tensor(0))
    let a = Tensor::<f32>::from_vec(vec![1.0, 5.0, 5.0, 7.0, 2.0, 7.0], &[2, 3]);
    assert_eq!(a.argmax_dim(1, false).to_vec(), vec![1, 0]);
    assert_eq!(a.argmax_dim(-2, false).to_vec(), vec![1, 0, 1]);
    assert_eq!(a.argmin_dim(-1, true).shape(), &[2, 1]);
    assert_eq!(a.argmin_dim(1, false).to_vec(), vec![0, 1]);
    assert_eq!(a.argmax().item(), 3);
    assert_eq!(a.argmin().item(), 0);
    assert_eq!(a.argmax().shape(), &[] as &[usize]);
    let (values, indices) = a.max_dim(-1, false);
    assert_eq!(values.to_vec(), vec![5.0, 7.0]);
    assert_eq!(
        (indices.dtype(), indices.to_vec()),
        (DType::I64, vec![1, 0])
    );
    // >>> torch.tensor([1., float('nan'), 3.]).argmax(), .argmin() -> tensor(1), tensor(1)
    let n = Tensor::<f64>::from_vec(vec![1.0, f64::NAN, 3.0], &[3]);
    assert_eq!((n.argmax().item(), n.argmin().item()), (1, 1));
    // Transposed input: the same as on a contiguous copy.
    assert_eq!(a.t().argmax_dim(0, false).to_vec(), vec![1, 0]);
    // No max of nothing.
    let e = Tensor::<f32>::zeros(&[0]).try_argmax().unwrap_err();
    assert_eq!(e.op(), "argmax");
    assert!(Tensor::<f32>::zeros(&[2, 0])
        .try_argmin_dim(1, false)
        .is_err());
}

#[test]
fn every_dim_argument_takes_negative_dims() {
    // >>> x = torch.arange(24.).reshape(2, 3, 4)
    let x = Tensor::<f64>::arange(0.0, 24.0, 1.0).reshape(&[2, 3, 4]);
    let same = |a: Tensor<f64>, b: Tensor<f64>| {
        assert_eq!(a.shape(), b.shape());
        assert_eq!(a.to_vec(), b.to_vec());
    };
    same(x.sum_dim(-1, false), x.sum_dim(2, false));
    same(x.sum_dim(-3, true), x.sum_dim(0usize, true));
    same(x.mean_dim(-2, false), x.mean_dim(1i64, false));
    same(x.max_dim(-1, true).0, x.max_dim(2isize, true).0);
    same(x.transpose(-1, -3), x.transpose(2, 0));
    same(x.unsqueeze(-1), x.unsqueeze(3));
    same(x.unsqueeze(-4), x.unsqueeze(0));
    same(x.unsqueeze(-1).squeeze_dim(-1), x.clone());
    same(x.narrow(-2, 1, 2), x.narrow(1, 1, 2));
    assert_eq!(
        x.argmax_dim(-1, false).to_vec(),
        x.argmax_dim(2, false).to_vec()
    );
    assert_eq!((x.size(-1), x.size(0), x.size(-3)), (4, 2, 2));
    assert_eq!(x.dims(), x.shape());
    // Gradients flow through the negative-dim forms too.
    let w = x.detach().requires_grad_(true);
    w.sum_dim(-1, false).sum().backward();
    assert_eq!(w.grad().unwrap().to_vec(), vec![1.0; 24]);
}

#[test]
fn a_dim_out_of_range_is_an_error_naming_the_op_the_dim_and_the_shape() {
    let x = Tensor::<f32>::zeros(&[2, 3]);
    let msg = |r: tapegrad::Result<Tensor<f32>>| r.unwrap_err().to_string();
    let range = "for a tensor of shape [2, 3] (expected -2..=1)";
    assert_eq!(
        msg(x.try_sum_dim(2, false)),
        format!("sum_dim: dim 2 is out of range {range}")
    );
    assert_eq!(
        msg(x.try_sum_dim(-3, false)),
        format!("sum_dim: dim -3 is out of range {range}")
    );
    assert_eq!(
        msg(x.try_mean_dim(-3, true)),
        format!("mean_dim: dim -3 is out of range {range}")
    );
    assert_eq!(
        msg(x.try_max_dim(-3, false).map(|p| p.0)),
        format!("max_dim: dim -3 is out of range {range}")
    );
    assert_eq!(
        x.try_argmax_dim(5, false).unwrap_err().to_string(),
        format!("argmax_dim: dim 5 is out of range {range}")
    );
    assert_eq!(
        x.try_argmin_dim(-9, false).unwrap_err().to_string(),
        format!("argmin_dim: dim -9 is out of range {range}")
    );
    assert_eq!(
        msg(x.try_transpose(0, -3)),
        format!("transpose: dim -3 is out of range {range}")
    );
    assert_eq!(
        msg(x.try_squeeze_dim(-3)),
        format!("squeeze_dim: dim -3 is out of range {range}")
    );
    assert_eq!(
        msg(x.try_narrow(2, 0, 1)),
        format!("narrow: dim 2 is out of range {range}")
    );
    assert_eq!(
        msg(x.try_unsqueeze(-4)),
        "unsqueeze: dim -4 is out of range for a tensor of shape [2, 3] (expected -3..=2)"
    );
    assert_eq!(
        x.try_size(2).unwrap_err().to_string(),
        format!("size: dim 2 is out of range {range}")
    );
    assert_eq!(x.try_size(2).unwrap_err().kind(), ErrorKind::Index);
    // A scalar takes dim 0 or -1 (PyTorch's leniency), and nothing else.
    assert_eq!(
        Tensor::<f32>::scalar(1.0)
            .try_sum_dim(1, false)
            .unwrap_err()
            .to_string(),
        "sum_dim: dim 1 is out of range for a tensor of shape [] (expected -1..=0)"
    );
    assert_eq!(Tensor::<f32>::scalar(2.0).sum_dim(-1, false).item(), 2.0);
}

#[test]
fn reshape_infers_one_dim_and_refuses_two() {
    let x = Tensor::<f32>::zeros(&[2, 6]);
    assert_eq!(x.reshape(&[-1]).shape(), &[12]);
    assert_eq!(x.reshape(&[4, -1, 1]).shape(), &[4, 3, 1]);
    assert_eq!(x.reshape(&[2usize, 6]).shape(), &[2, 6]);
    assert_eq!(x.reshape(&vec![3i64, 4]).shape(), &[3, 4]);
    let msg = |r: tapegrad::Result<Tensor<f32>>| r.unwrap_err().to_string();
    assert_eq!(
        msg(x.try_reshape(&[-1, -1])),
        "reshape: only one dim can be inferred (-1), got [-1, -1] for shape [2, 6]"
    );
    assert_eq!(
        msg(x.try_reshape(&[5, -1])),
        "reshape: cannot reshape [2, 6] (12 elements) to [5, -1]: no size for the -1 fits"
    );
    assert_eq!(
        msg(x.try_reshape(&[-2, 6])),
        "reshape: invalid dim -2 in [-2, 6] for shape [2, 6] (only -1 may be negative)"
    );
    // >>> torch.zeros(0, 3).reshape(-1, 3).shape -> torch.Size([0, 3])
    assert_eq!(
        Tensor::<f32>::zeros(&[0, 3]).reshape(&[-1, 3]).shape(),
        &[0, 3]
    );
    let grads = x.detach().requires_grad_(true);
    grads.reshape(&[-1, 4]).sum().backward();
    assert_eq!(grads.grad().unwrap().shape(), &[2, 6]);
}

#[test]
fn view_needs_a_contiguous_tensor() {
    let x = Tensor::<f32>::arange(0.0, 6.0, 1.0).reshape(&[2, 3]);
    let v = x.view(&[3, -1]);
    assert_eq!(v.to_vec(), x.to_vec());
    assert_eq!(v.strides(), &[2, 1]);
    let e = x.t().try_view(&[6]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Shape);
    assert_eq!(
        e.to_string(),
        "view: a tensor of shape [3, 2] with strides [1, 3] is not contiguous, so it cannot be \
         viewed as [6]; use reshape (which copies) or contiguous() first"
    );
    // reshape copies where view refuses.
    assert_eq!(
        x.t().reshape(&[6]).to_vec(),
        vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    );
    assert!(x.try_view(&[-1, -1]).is_err());
}

#[test]
fn softmax_and_log_softmax_take_negative_dims() {
    use tapegrad::nn::functional::{log_softmax, softmax, try_softmax};
    let x = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 5.0], &[2, 2]);
    assert_eq!(softmax(&x, -1).to_vec(), softmax(&x, 1).to_vec());
    assert_eq!(log_softmax(&x, -2).to_vec(), log_softmax(&x, 0).to_vec());
    assert_eq!(
        try_softmax(&x, -3).unwrap_err().to_string(),
        "softmax: dim -3 is out of range for a tensor of shape [2, 2] (expected -2..=1)"
    );
}
