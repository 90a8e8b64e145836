//! A CNN's weights cross between PyTorch and tapegrad both ways through safetensors
//! (`fixtures/torch_cnn.py` made the fixture): PyTorch's state dict, BatchNorm buffers
//! included, loads into the same tapegrad model and gives PyTorch's eval-mode output; the
//! file tapegrad writes back has exactly the names, dtypes and shapes PyTorch's strict
//! `load_state_dict` requires (checked in Python by `torch_cnn.py check FILE`, which loads
//! it strictly and prints the same output).

use tapegrad::nn::{
    self, AvgPool2d, BatchNorm2d, Conv2d, DynTensor, Flatten, Linear, MaxPool2d, Module, Relu,
    Sequential,
};
use tapegrad::Tensor;

/// The model of `torch_cnn.py`.
fn model() -> Sequential<f64> {
    Sequential::new()
        .add(Conv2d::new(1, 4, 3).padding(1))
        .add(BatchNorm2d::new(4))
        .add(Relu)
        .add(MaxPool2d::new(2))
        .add(Conv2d::new(4, 8, 3).groups(2))
        .add(Relu)
        .add(AvgPool2d::new(2))
        .add(Flatten::new())
        .add(Linear::new(8, 5))
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn io() -> (Tensor<f64>, Tensor<f64>) {
    let io = nn::load_tensors(fixture("torch_cnn_io.safetensors")).unwrap();
    let get = |n: &str| {
        io.iter()
            .find(|(k, _)| k == n)
            .unwrap()
            .1
            .to_tensor::<f64>()
            .unwrap()
    };
    (get("input"), get("output"))
}

/// (name, dtype, shape) of every tensor in a file, sorted.
fn layout(tensors: &[(String, DynTensor)]) -> Vec<(String, tapegrad::DType, Vec<usize>)> {
    let mut v: Vec<_> = tensors
        .iter()
        .map(|(n, t)| (n.clone(), t.dtype(), t.shape().to_vec()))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[test]
fn a_pytorch_cnn_loads_and_gives_pytorchs_eval_output() {
    let m = model();
    nn::load(&m, fixture("torch_cnn.safetensors")).unwrap();
    m.eval();
    let (x, expected) = io();
    let y = m.forward(&x);
    assert_eq!(y.shape(), expected.shape());
    for (a, b) in y.to_vec().iter().zip(expected.to_vec()) {
        assert!(
            (a - b).abs() <= 1e-12 * (1.0 + b.abs()),
            "{a} vs PyTorch's {b}"
        );
    }
    // The buffers came across too: PyTorch trained 3 batches.
    let tracked = m
        .named_buffers()
        .into_iter()
        .find(|(n, _)| n == "1.num_batches_tracked")
        .unwrap()
        .1;
    assert_eq!(tracked.to_tensor::<i64>().unwrap().to_vec(), vec![3]);
    // In training mode the output differs (batch statistics), as in PyTorch.
    m.train(true);
    assert_ne!(m.forward(&x).to_vec(), y.to_vec());
}

#[test]
fn the_file_tapegrad_writes_is_what_pytorchs_strict_load_expects() {
    let m = model();
    nn::load(&m, fixture("torch_cnn.safetensors")).unwrap();
    // A training step in tapegrad, so the weights and running statistics are its own.
    tapegrad::manual_seed(5);
    let mut sgd = tapegrad::optim::Sgd::new(m.parameters(), 0.1);
    m.forward(&Tensor::randn(&[6, 1, 8, 8]))
        .square()
        .mean()
        .backward();
    tapegrad::optim::Optimizer::step(&mut sgd);
    let path = std::env::var("TAPEGRAD_CNN_OUT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::env::temp_dir().join(format!("tapegrad-cnn-{}.safetensors", std::process::id()))
        });
    nn::save(&m, &path).unwrap();
    let ours = nn::load_tensors(&path).unwrap();
    let theirs = nn::load_tensors(fixture("torch_cnn.safetensors")).unwrap();
    assert_eq!(layout(&ours), layout(&theirs));
    // Reading it back gives the trained model exactly.
    let back = model();
    nn::load(&back, &path).unwrap();
    m.eval();
    back.eval();
    let y = m.forward(&io().0).to_vec();
    assert_eq!(back.forward(&io().0).to_vec(), y);
    let tracked = ours
        .iter()
        .find(|(n, _)| n == "1.num_batches_tracked")
        .unwrap()
        .1
        .clone();
    assert_eq!(tracked.to_tensor::<i64>().unwrap().to_vec(), vec![4]);
    // For `torch_cnn.py check FILE`: the same numbers must come out of PyTorch.
    println!(
        "{}",
        y.iter()
            .map(|v| format!("{v:?}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    if std::env::var("TAPEGRAD_CNN_OUT").is_err() {
        std::fs::remove_file(&path).ok();
    }
}
