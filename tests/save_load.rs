//! nn::save and nn::load: safetensors files shared with PyTorch both ways, atomic writes,
//! and bad files refused without touching the model.
//!
//! The fixtures `tests/fixtures/torch_mlp_f32.safetensors` and `..._f64.safetensors`, and
//! the outputs quoted below, come from `tests/fixtures/pytorch_reference.py` (PyTorch 2.15,
//! safetensors 0.8): `save_file(model.state_dict(), path)` for
//! `Sequential(Linear(4, 3), ReLU(), Linear(3, 2))` after `torch.manual_seed(0)`.

#[path = "support/close.rs"]
mod close;
#[path = "support/generator.rs"]
mod generator;

use close::assert_close;
use generator::take_turn;
use tapegrad::nn::{self, Linear, Module, Params, Relu, Sequential, Tanh};
use tapegrad::{ErrorKind, Tensor};

/// A user module two levels deep: a Sequential, a Linear and a tensor of its own.
struct Net {
    encoder: Sequential,
    head: Linear,
    scale: Tensor,
}

impl Module for Net {
    fn forward(&self, x: &Tensor) -> Tensor {
        self.head.forward(&self.encoder.forward(x)) * &self.scale
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        Params::new()
            .module("encoder", &self.encoder)
            .module("head", &self.head)
            .tensor("scale", &self.scale)
            .into()
    }
}

fn two_level() -> Net {
    Net {
        encoder: Sequential::new().add(Linear::new(4, 4)).add(Tanh),
        head: Linear::new(4, 1),
        scale: Tensor::from_vec(vec![0.5], &[1]).requires_grad_(true),
    }
}

fn tmp_dir(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tapegrad-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn mlp<T: tapegrad::Float + 'static>() -> Sequential<T> {
    Sequential::new()
        .add(Linear::new(4, 3))
        .add(Relu)
        .add(Linear::new(3, 2))
}

const FIXTURE_F32: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/torch_mlp_f32.safetensors"
);
const FIXTURE_F64: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/torch_mlp_f64.safetensors"
);

#[test]
fn should_load_a_pytorch_file_and_give_pytorchs_outputs() {
    let _turn = take_turn();
    let x = [0.2, 0.3, 0.1, 0.9, 1.0, -1.0, 0.5, 0.0];
    // printed by tests/fixtures/pytorch_reference.py: model(x) for the saved Sequential(Linear(4, 3), ReLU(), Linear(3, 2))
    let model: Sequential<f32> = mlp();
    nn::load(&model, FIXTURE_F32).unwrap();
    let y = model.forward(&Tensor::from_vec(x.map(|v| v as f32).to_vec(), &[2, 4]));
    let expected = [
        0.1699582040309906,
        -0.35331350564956665,
        0.11193237453699112,
        -0.516191303730011,
    ];
    assert_close(
        &y.to_vec().iter().map(|&v| v as f64).collect::<Vec<_>>(),
        &expected,
        1e-6,
        "f32 output",
    );

    let model: Sequential<f64> = mlp();
    nn::load(&model, FIXTURE_F64).unwrap();
    let y = model.forward(&Tensor::from_vec(x.to_vec(), &[2, 4]));
    let expected = [
        0.16995820825352562,
        -0.35331353172024993,
        0.1119323757907154,
        -0.5161913286214076,
    ];
    assert_close(&y.to_vec(), &expected, 1e-14, "f64 output");
}

#[test]
fn should_write_the_same_bytes_as_pytorchs_safetensors() {
    let _turn = take_turn();
    // Loading PyTorch's file and saving it again gives the identical file: same header
    // (names, dtypes, shapes, offsets, padding) and same data, so PyTorch reads ours.
    let dir = tmp_dir("same-bytes");
    for (fixture, path) in [
        (FIXTURE_F32, dir.join("f32.safetensors")),
        (FIXTURE_F64, dir.join("f64.safetensors")),
    ] {
        if fixture == FIXTURE_F32 {
            let model: Sequential<f32> = mlp();
            nn::load(&model, fixture).unwrap();
            nn::save(&model, &path).unwrap();
        } else {
            let model: Sequential<f64> = mlp();
            nn::load(&model, fixture).unwrap();
            nn::save(&model, &path).unwrap();
        }
        assert_eq!(
            std::fs::read(&path).unwrap(),
            std::fs::read(fixture).unwrap(),
            "{fixture}"
        );
    }
    // And the layout itself: an 8-byte little-endian header length, then JSON.
    let bytes = std::fs::read(dir.join("f32.safetensors")).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = std::str::from_utf8(&bytes[8..8 + n]).unwrap();
    assert!(
        header.contains(r#""0.weight":{"dtype":"F32","shape":[3,4],"data_offsets":["#),
        "{header}"
    );
    assert_eq!(bytes.len(), 8 + n + 4 * (12 + 3 + 6 + 2));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn should_round_trip_a_user_module_through_a_file() {
    let _turn = take_turn();
    let dir = tmp_dir("round-trip");
    let path = dir.join("two_level.safetensors");
    let saved = two_level();
    nn::save(&saved, &path).unwrap();
    let loaded = two_level();
    nn::load(&loaded, &path).unwrap();
    let x: Tensor = Tensor::randn(&[3, 4]);
    assert_eq!(loaded.forward(&x).to_vec(), saved.forward(&x).to_vec());
    // Saving again over the file replaces it, and leaves no temporary file behind.
    nn::save(&loaded, &path).unwrap();
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files, ["two_level.safetensors"]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn should_refuse_bad_files_and_leave_the_model_unchanged() {
    let _turn = take_turn();
    let dir = tmp_dir("bad-files");
    let good = dir.join("good.safetensors");
    let model: Sequential<f32> = mlp();
    nn::save(&model, &good).unwrap();
    let bytes = std::fs::read(&good).unwrap();

    let target: Sequential<f32> = mlp();
    let before: Vec<Vec<f32>> = target.parameters().iter().map(Tensor::to_vec).collect();
    let write = |name: &str, contents: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    };
    let other: Sequential<f32> = Sequential::new()
        .add(Linear::new(4, 3))
        .add(Relu)
        .add(Linear::new(3, 5));
    let extra: Sequential<f32> = mlp::<f32>().add(Linear::new(2, 2));
    let f64_model: Sequential<f64> = mlp();
    let (shape_file, extra_file, f64_file) =
        (dir.join("shape"), dir.join("extra"), dir.join("f64"));
    nn::save(&other, &shape_file).unwrap();
    nn::save(&extra, &extra_file).unwrap();
    nn::save(&f64_model, &f64_file).unwrap();
    let mut missing_tensor = Sequential::<f32>::new().add(Linear::new(4, 3));
    missing_tensor = missing_tensor.add(Relu);
    let missing_file = dir.join("missing-tensor");
    nn::save(&missing_tensor, &missing_file).unwrap();

    let cases = [
        (dir.join("does-not-exist"), ErrorKind::Io, "cannot read"),
        (
            write("garbage", b"not a safetensors file at all"),
            ErrorKind::Format,
            "is not a valid safetensors file",
        ),
        (
            write("truncated", &bytes[..bytes.len() - 5]),
            ErrorKind::Format,
            "is not a valid safetensors file",
        ),
        (
            write("empty", b""),
            ErrorKind::Format,
            "is not a valid safetensors file",
        ),
        (
            shape_file,
            ErrorKind::Shape,
            "\"2.weight\" has shape [5, 3] in the file but [2, 3] in the module",
        ),
        (
            extra_file,
            ErrorKind::Format,
            "has tensors the module has no parameters or buffers for: [\"3.bias\", \"3.weight\"]",
        ),
        (
            f64_file,
            ErrorKind::Format,
            "stores \"0.weight\" as F64, but the module's \"0.weight\" is F32",
        ),
        (
            missing_file,
            ErrorKind::Format,
            "has no tensor \"2.weight\" (the module's F32 of shape [2, 3])",
        ),
    ];
    for (path, kind, text) in cases {
        let e = nn::load(&target, &path).unwrap_err();
        assert_eq!(e.kind(), kind, "{}: {e}", path.display());
        assert_eq!(e.op(), "load");
        assert!(e.to_string().contains(text), "{}: {e}", path.display());
        let after: Vec<Vec<f32>> = target.parameters().iter().map(Tensor::to_vec).collect();
        assert_eq!(after, before, "{} changed the model", path.display());
    }
    // A failed save (no such directory) leaves nothing behind either.
    let e = nn::save(&model, dir.join("no-such-dir").join("m.safetensors")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn should_read_and_write_every_dtype_like_safetensors_torch() {
    // tests/fixtures/pytorch_reference.py, last part: save_file of f32, f64, int64 and bool
    // tensors (a 0-dim int64 among them).
    let fixture = std::path::Path::new("tests/fixtures/torch_dtypes.safetensors");
    let loaded = tapegrad::nn::load_tensors(fixture).unwrap();
    let names: Vec<&str> = loaded.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["labels", "mask", "scale", "steps", "weight"]);
    let get = |name: &str| loaded.iter().find(|(n, _)| n == name).unwrap().1.clone();
    let labels = get("labels").to_tensor::<i64>().unwrap();
    assert_eq!(
        (labels.shape(), labels.to_vec()),
        (&[1usize, 3][..], vec![-1, 0, 7])
    );
    assert_eq!(
        get("mask").to_tensor::<bool>().unwrap().to_vec(),
        vec![true, false, true]
    );
    assert_eq!(
        get("scale").to_tensor::<f64>().unwrap().to_vec(),
        vec![1e-300, -3.5]
    );
    let steps = get("steps").to_tensor::<i64>().unwrap();
    assert_eq!((steps.shape(), steps.item()), (&[][..], 123456789012));
    assert_eq!(
        get("weight").to_tensor::<f32>().unwrap().to_vec(),
        vec![0.5, -1.25, 2.0, 0.0]
    );
    assert!(
        get("weight").to_tensor::<f64>().is_none(),
        "no silent conversion"
    );

    // Written back in the same order, the file is PyTorch's, byte for byte.
    let dir = std::env::temp_dir().join(format!("tapegrad-dtypes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("again.safetensors");
    let named: Vec<(&str, tapegrad::nn::DynTensor)> = loaded
        .iter()
        .map(|(n, t)| (n.as_str(), t.clone()))
        .collect();
    tapegrad::nn::save_tensors(&named, &path).unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(fixture).unwrap()
    );

    // Two tensors of one name are refused, and nothing is written.
    let dup = [
        ("a", Tensor::<i64>::zeros(&[1]).into()),
        ("a", Tensor::<bool>::zeros(&[1]).into()),
    ];
    let other = dir.join("dup.safetensors");
    assert!(tapegrad::nn::save_tensors(&dup, &other).is_err());
    assert!(!other.exists());
    // A file that is not safetensors is an error, not a panic.
    std::fs::write(&other, b"not a safetensors file").unwrap();
    assert_eq!(
        tapegrad::nn::load_tensors(&other).unwrap_err().kind(),
        tapegrad::ErrorKind::Format
    );
    std::fs::remove_dir_all(&dir).ok();
}
