//! MNIST's IDX files: [`read_idx`] for one file, [`Mnist::load`] for the four.

use crate::element::Float;
use crate::error::{Error, ErrorKind, Result};
use crate::Tensor;
use std::path::Path;

/// The contents of an IDX file of unsigned bytes (the format MNIST comes in): its dims and
/// its values in row-major order.
///
/// ```
/// use tapegrad::data::Idx;
/// let idx = Idx { shape: vec![2, 2], data: vec![0, 255, 7, 8] };
/// assert_eq!(idx.shape.iter().product::<usize>(), idx.data.len());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idx {
    /// The dims from the header (`[60000, 28, 28]` for MNIST's training images).
    pub shape: Vec<usize>,
    /// One byte per element.
    pub data: Vec<u8>,
}

fn format_error(path: &Path, message: String) -> Error {
    Error::new(
        ErrorKind::Format,
        "read_idx",
        format!("{}: {message}", path.display()),
    )
}

/// Reads an IDX file of unsigned bytes: a 4-byte magic number (0, 0, 0x08, the number of
/// dims), each dim as a big-endian u32, then the bytes. An error names the file for
/// anything else: another element type, a truncated or overlong file, a directory.
///
/// ```
/// use tapegrad::data::read_idx;
/// let path = std::env::temp_dir().join(format!("tapegrad-doc-idx-{}", std::process::id()));
/// std::fs::write(&path, [0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9])?;
/// let idx = read_idx(&path)?;
/// assert_eq!((idx.shape, idx.data), (vec![3], vec![7, 8, 9]));
/// std::fs::write(&path, [0, 0, 8, 1, 0, 0, 0, 4, 7, 8, 9])?; // says 4, holds 3
/// assert!(read_idx(&path).is_err());
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_idx(path: impl AsRef<Path>) -> Result<Idx> {
    let path = path.as_ref();
    let io = |e: std::io::Error| {
        Error::new(
            ErrorKind::Io,
            "read_idx",
            format!("cannot read {}: {e}", path.display()),
        )
    };
    if !std::fs::metadata(path).map_err(io)?.is_file() {
        return Err(Error::new(
            ErrorKind::Io,
            "read_idx",
            format!("{} is not a regular file", path.display()),
        ));
    }
    let bytes = std::fs::read(path).map_err(io)?;
    let Some(&[0, 0, kind, ndim]) = bytes
        .get(..4)
        .map(|b| <&[u8; 4]>::try_from(b).expect("4 bytes"))
    else {
        return Err(format_error(
            path,
            "not an IDX file (its first two bytes must be 0)".into(),
        ));
    };
    if kind != 0x08 {
        return Err(format_error(
            path,
            format!(
                "holds element type 0x{kind:02x}; only unsigned bytes (0x08, MNIST's) are read"
            ),
        ));
    }
    let header = 4 + 4 * ndim as usize;
    let dims = bytes
        .get(4..header)
        .ok_or_else(|| format_error(path, format!("ends inside its header of {ndim} dims")))?;
    let shape: Vec<usize> = dims
        .chunks_exact(4)
        .map(|d| u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as usize)
        .collect();
    let count = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| format_error(path, format!("dims {shape:?} overflow")))?;
    let body = bytes.len() - header;
    if body != count {
        return Err(format_error(
            path,
            format!("dims {shape:?} need {count} bytes after the header, the file has {body}"),
        ));
    }
    Ok(Idx {
        shape,
        data: bytes[header..].to_vec(),
    })
}

/// MNIST from the four IDX files in a directory (decompressed, with their usual names:
/// `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
/// `t10k-labels-idx1-ubyte`). Images are `[N, 1, 28, 28]` scaled to `[0, 1]` (PyTorch's
/// `ToTensor()`), labels `[N]` class indices. [`Mnist::load`] reads them; with the real
/// files, the usual loop is:
///
/// ```no_run
/// use tapegrad::data::{DataLoader, Mnist, TensorDataset};
/// let mnist: Mnist = Mnist::load("data/mnist")?;
/// let labels = mnist.train_labels.to_dtype::<f32>(); // one dataset holds one float type
/// let train = TensorDataset::new(vec![mnist.train_images, labels]);
/// for batch in &DataLoader::new(&train, 64).shuffle(true) {
///     assert_eq!(batch[0].shape()[1..], [1, 28, 28]);
/// }
/// # Ok::<(), tapegrad::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Mnist<T: Float = f32> {
    /// `[60000, 1, 28, 28]` for the full set.
    pub train_images: Tensor<T>,
    /// `[60000]`, each in `0..10`.
    pub train_labels: Tensor<i64>,
    /// `[10000, 1, 28, 28]` for the full set.
    pub test_images: Tensor<T>,
    /// `[10000]`.
    pub test_labels: Tensor<i64>,
}

impl<T: Float> Mnist<T> {
    /// Reads the four files from `dir`. An error names the file that is missing or does
    /// not fit (images that are not `[N, 28, 28]`, labels of another count or above 9).
    ///
    /// ```
    /// use tapegrad::data::Mnist;
    /// let dir = std::env::temp_dir().join(format!("tapegrad-doc-mnist-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// for (split, n) in [("train", 2u8), ("t10k", 1)] {
    ///     let mut images = vec![0, 0, 8, 3, 0, 0, 0, n, 0, 0, 0, 28, 0, 0, 0, 28];
    ///     images.extend(std::iter::repeat(255).take(784 * n as usize));
    ///     std::fs::write(dir.join(format!("{split}-images-idx3-ubyte")), images)?;
    ///     let mut labels = vec![0, 0, 8, 1, 0, 0, 0, n];
    ///     labels.extend((0..n).map(|i| i + 3));
    ///     std::fs::write(dir.join(format!("{split}-labels-idx1-ubyte")), labels)?;
    /// }
    /// let mnist: Mnist = Mnist::load(&dir)?;
    /// assert_eq!(mnist.train_images.shape(), &[2, 1, 28, 28]);
    /// assert_eq!(mnist.train_labels.to_vec(), vec![3, 4]);
    /// assert_eq!(mnist.test_images.to_vec()[0], 1.0);
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let (train_images, train_labels) = split(dir, "train")?;
        let (test_images, test_labels) = split(dir, "t10k")?;
        Ok(Mnist {
            train_images,
            train_labels,
            test_images,
            test_labels,
        })
    }
}

/// One split's images and labels.
fn split<T: Float>(dir: &Path, name: &str) -> Result<(Tensor<T>, Tensor<i64>)> {
    let images_path = dir.join(format!("{name}-images-idx3-ubyte"));
    let labels_path = dir.join(format!("{name}-labels-idx1-ubyte"));
    let images = read_idx(&images_path)?;
    let labels = read_idx(&labels_path)?;
    let &[n, 28, 28] = images.shape.as_slice() else {
        return Err(format_error(
            &images_path,
            format!("images must be [N, 28, 28], got {:?}", images.shape),
        ));
    };
    if labels.shape != [n] {
        return Err(format_error(
            &labels_path,
            format!(
                "labels must be [{n}] to match {} images, got {:?}",
                n, labels.shape
            ),
        ));
    }
    if let Some((i, &bad)) = labels.data.iter().enumerate().find(|&(_, &l)| l > 9) {
        return Err(format_error(
            &labels_path,
            format!("label {i} is {bad}, not a digit 0..9"),
        ));
    }
    let scale = T::from(255.0).unwrap_or_else(T::nan);
    let pixels: Vec<T> = images
        .data
        .iter()
        .map(|&p| T::from(p).unwrap_or_else(T::nan) / scale)
        .collect();
    let classes: Vec<i64> = labels.data.iter().map(|&l| i64::from(l)).collect();
    Ok((
        Tensor::from_vec(pixels, &[n, 1, 28, 28]),
        Tensor::from_vec(classes, &[n]),
    ))
}
