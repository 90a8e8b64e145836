//! `data`: TensorDataset and DataLoader (batches, seeded shuffle, drop_last, epochs), and
//! the MNIST IDX reader on small files the test writes.

use std::collections::BTreeSet;
use tapegrad::data::{read_idx, DataLoader, Mnist, TensorDataset};
use tapegrad::{ErrorKind, Tensor};

fn dataset(n: usize) -> TensorDataset<f64> {
    let x = Tensor::from_vec((0..n * 2).map(|v| v as f64).collect(), &[n, 2]);
    let y = Tensor::from_vec((0..n).map(|v| v as f64).collect(), &[n]);
    TensorDataset::new(vec![x, y])
}

/// The sample ids of an epoch, checking that x and y rows stay together.
fn epoch(loader: &DataLoader<'_, f64>) -> Vec<Vec<usize>> {
    loader
        .iter()
        .map(|batch| {
            let (x, y) = (batch[0].to_vec2(), batch[1].to_vec());
            assert_eq!(x.len(), y.len());
            x.iter()
                .zip(&y)
                .map(|(row, &id)| {
                    assert_eq!(row, &vec![2.0 * id, 2.0 * id + 1.0]);
                    id as usize
                })
                .collect()
        })
        .collect()
}

#[test]
fn batches_cover_every_sample_once_per_epoch() {
    let d = dataset(10);
    let plain = DataLoader::new(&d, 3);
    assert_eq!(
        epoch(&plain),
        vec![vec![0, 1, 2], vec![3, 4, 5], vec![6, 7, 8], vec![9]]
    );
    assert_eq!(plain.len(), 4);
    let dropped = DataLoader::new(&d, 3).drop_last(true);
    assert_eq!(epoch(&dropped).len(), 3);
    assert_eq!(dropped.iter().len(), 3);

    let shuffled = DataLoader::new(&d, 4).shuffle(true).seed(42);
    let (first, second) = (epoch(&shuffled), epoch(&shuffled));
    for e in [&first, &second] {
        let all: BTreeSet<usize> = e.iter().flatten().copied().collect();
        assert_eq!(all, (0..10).collect());
        assert_eq!(e.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 2]);
    }
    assert_ne!(first, second, "each epoch draws a new order");
    assert_ne!(first.concat(), (0..10).collect::<Vec<_>>());
    // The same seed replays the same epochs.
    let again = DataLoader::new(&d, 4).shuffle(true).seed(42);
    assert_eq!((epoch(&again), epoch(&again)), (first, second));
    // `for batch in &loader` is an epoch too.
    let mut count = 0;
    for batch in &again {
        count += batch[1].shape()[0];
    }
    assert_eq!(count, 10);
}

#[test]
fn batches_are_off_the_tape_and_datasets_check_their_shapes() {
    let x = Tensor::<f32>::ones(&[4, 2]).requires_grad_(true);
    let d = TensorDataset::new(vec![x]);
    let batch = DataLoader::new(&d, 2).iter().next().unwrap();
    assert!(!batch[0].requires_grad());
    let e = TensorDataset::try_new(vec![Tensor::<f32>::zeros(&[4, 2]), Tensor::zeros(&[3])])
        .unwrap_err();
    assert!(
        e.to_string().contains("[4, 2]") && e.to_string().contains("[3]"),
        "{e}"
    );
    assert!(TensorDataset::<f32>::try_new(vec![]).is_err());
    assert!(TensorDataset::try_new(vec![Tensor::<f32>::scalar(1.0)]).is_err());
    assert_eq!(dataset(5).get(3)[1].item(), 3.0);
}

fn write(path: &std::path::Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
}

fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        out.extend(d.to_be_bytes());
    }
    out.extend(data);
    out
}

#[test]
fn mnist_reads_small_idx_files_and_names_what_does_not_fit() {
    let dir = std::env::temp_dir().join(format!("tapegrad-mnist-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pixels: Vec<u8> = (0..3 * 784).map(|i| (i % 256) as u8).collect();
    write(
        &dir.join("train-images-idx3-ubyte"),
        &idx(&[3, 28, 28], &pixels),
    );
    write(&dir.join("train-labels-idx1-ubyte"), &idx(&[3], &[7, 0, 9]));
    write(
        &dir.join("t10k-images-idx3-ubyte"),
        &idx(&[1, 28, 28], &pixels[..784]),
    );
    write(&dir.join("t10k-labels-idx1-ubyte"), &idx(&[1], &[5]));
    let m: Mnist<f64> = Mnist::load(&dir).unwrap();
    assert_eq!(m.train_images.shape(), &[3, 1, 28, 28]);
    assert_eq!(m.train_labels.to_vec(), vec![7, 0, 9]);
    assert_eq!(m.test_labels.to_vec(), vec![5]);
    let v = m.train_images.to_vec();
    assert_eq!(
        (v[0], v[255], v[784 + 1]),
        (0.0, 1.0, (784 % 256 + 1) as f64 / 255.0)
    );

    // Labels that do not match, or are not digits.
    write(&dir.join("t10k-labels-idx1-ubyte"), &idx(&[2], &[5, 1]));
    let e = Mnist::<f32>::load(&dir).unwrap_err();
    assert!(
        e.to_string().contains("t10k-labels-idx1-ubyte") && e.to_string().contains("[2]"),
        "{e}"
    );
    write(&dir.join("t10k-labels-idx1-ubyte"), &idx(&[1], &[10]));
    assert!(Mnist::<f32>::load(&dir)
        .unwrap_err()
        .to_string()
        .contains("not a digit"));
    // A missing file is an I/O error naming it.
    std::fs::remove_file(dir.join("t10k-labels-idx1-ubyte")).unwrap();
    let e = Mnist::<f32>::load(&dir).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
    assert!(e.to_string().contains("t10k-labels-idx1-ubyte"), "{e}");

    // read_idx: truncated, overlong, another element type, a huge header, a directory.
    let f = dir.join("bad");
    for (bytes, text) in [
        (idx(&[4], &[1, 2, 3]), "need 4 bytes"),
        (idx(&[2], &[1, 2, 3]), "need 2 bytes"),
        (
            vec![0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0],
            "element type 0x0d",
        ),
        (idx(&[u32::MAX, u32::MAX, u32::MAX], &[]), "overflow"),
        (vec![0, 0, 8, 3, 0, 0], "header"),
        (vec![1, 2], "not an IDX file"),
    ] {
        write(&f, &bytes);
        let e = read_idx(&f).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Format, "{e}");
        assert!(e.to_string().contains(text), "{text}: {e}");
    }
    assert_eq!(read_idx(&dir).unwrap_err().kind(), ErrorKind::Io);
    std::fs::remove_dir_all(&dir).ok();
}
