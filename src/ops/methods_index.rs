//! Shape, joining and indexing methods of `Tensor` and `graph::Node`, defined once (like
//! `methods.rs`): views for every element type, and the copying and indexing ops.

/// Views and splits: on `$ty<T: $bound>`.
macro_rules! index_view_methods {
    ($ty:ident, $bound:path) => {
        impl<T: $bound> $ty<T> {
            $crate::operators::fallible! { $ty;
                /// Element `index` of dim `dim`, which is removed (`x.select(dim, i)`,
                /// `x[:, i]`): a view.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::arange(0.0, 6.0, 1.0).reshape(&[2, 3]);
                /// assert_eq!(x.select(1, 2).to_vec(), vec![2.0, 5.0]);
                /// assert!(x.try_select(0, 2).is_err());
                /// ```
                select / try_select (&self, dim: impl $crate::Dim, index: usize) -> $ty<T> {
                    let dim = $crate::dim::resolve_dim("select", dim, self.dims())?;
                    <Self as $crate::ops::Value<T>>::try_view_op(self, $crate::ops::View::Select { dim, index })
                }
            }

            $crate::operators::fallible! { $ty;
                /// The view `index` selects, one entry per leading dim: a position removes
                /// the dim, a range keeps a window of it, like `x[1, 2:4, :]`
                /// (`x.i((1, 2..4, ..))`). See [`TensorIndex`](crate::TensorIndex).
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::arange(0.0, 6.0, 1.0).reshape(&[2, 3]);
                /// assert_eq!(x.i((.., 1..)).to_vec(), vec![1.0, 2.0, 4.0, 5.0]);
                /// assert!(x.try_i((0, 0, 0)).is_err());
                /// ```
                i / try_i (&self, index: impl $crate::TensorIndex) -> $ty<T> {
                    $crate::ops::compose::index(self, &index.items())
                }
            }

            $crate::operators::fallible! { $ty;
                /// Dims `start_dim..=end_dim` merged into one (`torch.flatten`).
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::zeros(&[2, 3, 4]);
                /// assert_eq!(x.flatten(1, -1).shape(), &[2, 12]);
                /// assert_eq!(x.flatten(0, -1).shape(), &[24]);
                /// ```
                flatten / try_flatten (&self, start_dim: impl $crate::Dim, end_dim: impl $crate::Dim) -> $ty<T> {
                    $crate::ops::compose::flatten(self, start_dim, end_dim)
                }
            }

            $crate::operators::fallible! { $ty;
                /// Every dim of size 1 removed (`x.squeeze()`): a view.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::zeros(&[1, 3, 1]);
                /// assert_eq!(x.squeeze().shape(), &[3]);
                /// ```
                squeeze / try_squeeze (&self) -> $ty<T> {
                    let shape: Vec<usize> = self.dims().iter().copied().filter(|&d| d != 1).collect();
                    $crate::ops::compose::reshape_to(self, &shape)
                }
            }

            $crate::operators::fallible! { $ty;
                /// A view repeating size-1 dims to `shape` (`x.expand(..)`), the same as
                /// [`broadcast_to`](Self::broadcast_to).
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::ones(&[3, 1]);
                /// assert_eq!(x.expand(&[2, 3, 4]).shape(), &[2, 3, 4]);
                /// ```
                expand / try_expand (&self, shape: &[usize]) -> $ty<T> {
                    $crate::ops::compose::broadcast_to(self, shape)
                        .map_err(|e| $crate::Error::new(e.kind(), "expand", e.message()))
                }
            }

            $crate::operators::fallible! { $ty;
                /// Pieces of `size` along `dim` (the last may be shorter), as views
                /// (`torch.split`). An error for size 0.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::arange(0.0, 5.0, 1.0);
                /// let parts = x.split(2, 0);
                /// assert_eq!(parts.len(), 3);
                /// assert_eq!(parts[2].to_vec(), vec![4.0]);
                /// assert!(x.try_split(0, 0).is_err());
                /// ```
                split / try_split (&self, size: usize, dim: impl $crate::Dim) -> Vec<$ty<T>> {
                    $crate::ops::compose::split(self, "split", size, dim)
                }
            }

            $crate::operators::fallible! { $ty;
                /// `n` pieces of (nearly) equal size along `dim`, as views (`torch.chunk`:
                /// pieces of `ceil(len / n)`, so there may be fewer than `n`). An error for 0.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::arange(0.0, 6.0, 1.0);
                /// let parts = x.chunk(4, 0);
                /// assert_eq!(parts.iter().map(|p| p.numel()).collect::<Vec<_>>(), vec![2, 2, 2]);
                /// ```
                chunk / try_chunk (&self, n: usize, dim: impl $crate::Dim) -> Vec<$ty<T>> {
                    let d = $crate::dim::resolve_dim("chunk", dim, self.dims())?;
                    if n == 0 {
                        return Err($crate::Error::new(
                            $crate::ErrorKind::Value,
                            "chunk",
                            format!("cannot split shape {:?} into 0 chunks", self.dims()),
                        ));
                    }
                    let size = self.dims()[d].div_ceil(n).max(1);
                    $crate::ops::compose::split(self, "chunk", size, d)
                }
            }

            $crate::operators::fallible! { $ty;
                /// The value tiled `repeats[d]` times along each dim (`x.repeat(..)`);
                /// extra leading repeats add dims. A copy.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![1.0, 2.0], &[2]);
                /// assert_eq!(x.repeat(&[2, 2]).to_vec(), vec![1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0]);
                /// ```
                repeat / try_repeat (&self, repeats: &[usize]) -> $ty<T> {
                    $crate::ops::compose::repeat(self, repeats)
                }
            }
        }

        impl<T: $bound, I: $crate::TensorIndex> $crate::IndexOp<I> for $ty<T> {
            #[track_caller]
            fn i(&self, index: I) -> Self {
                $ty::i(self, index)
            }
        }
    };
}

/// The copying and indexing ops on `$ty<T: Float>`; `$indices` is the index operand type
/// (`Tensor<i64>`, or `Node<T>` for a graph) and `$mask` the mask type.
macro_rules! index_methods {
    ($ty:ident, $indices:ty, $mask:ty) => {
        impl<T: $crate::Float> $ty<T> {
            /// The values joined along `dim` (`torch.cat`); every other dim must agree.
            ///
            /// ```
            /// use tapegrad::Tensor;
            /// let a: Tensor = Tensor::zeros(&[2, 3]);
            /// let b: Tensor = Tensor::ones(&[1, 3]);
            /// assert_eq!(Tensor::cat(&[&a, &b], 0).shape(), &[3, 3]);
            /// assert!(Tensor::try_cat(&[&a, &b], 1).is_err());
            /// ```
            #[track_caller]
            pub fn cat(values: &[&$ty<T>], dim: impl $crate::Dim) -> $ty<T> {
                $crate::error::or_panic(Self::try_cat(values, dim))
            }

            /// [`Self::cat`] returning an error instead of panicking: for no values, a dim
            /// out of range, or shapes that differ outside `dim`.
            ///
            /// ```
            /// use tapegrad::Tensor;
            /// let a: Tensor = Tensor::zeros(&[2, 3]);
            /// assert_eq!(Tensor::try_cat(&[&a, &a], -1).unwrap().shape(), &[2, 6]);
            /// assert!(Tensor::<f32>::try_cat(&[], 0).is_err());
            /// ```
            #[track_caller]
            pub fn try_cat(values: &[&$ty<T>], dim: impl $crate::Dim) -> $crate::Result<$ty<T>> {
                let _site = $crate::autograd::anomaly::enter(std::panic::Location::caller());
                let first = values.first().ok_or_else(|| {
                    $crate::Error::shape("cat", "expected at least one value to join")
                })?;
                let dim = $crate::dim::resolve_dim("cat", dim, first.dims())?;
                if values.len() == 1 {
                    return Ok((*first).clone());
                }
                $crate::ops::Value::try_apply($crate::ops::Cat { dim }.into(), values)
            }

            /// The values (all of one shape) stacked along a new dim `dim` (`torch.stack`).
            ///
            /// ```
            /// use tapegrad::Tensor;
            /// let a: Tensor = Tensor::zeros(&[3]);
            /// assert_eq!(Tensor::stack(&[&a, &a], 0).shape(), &[2, 3]);
            /// assert_eq!(Tensor::stack(&[&a, &a], -1).shape(), &[3, 2]);
            /// assert!(Tensor::try_stack(&[&a, &Tensor::zeros(&[2])], 0).is_err());
            /// ```
            #[track_caller]
            pub fn stack(values: &[&$ty<T>], dim: impl $crate::Dim) -> $ty<T> {
                $crate::error::or_panic(Self::try_stack(values, dim))
            }

            /// [`Self::stack`] returning an error instead of panicking: for no values,
            /// shapes that differ, or a dim out of range.
            ///
            /// ```
            /// use tapegrad::Tensor;
            /// let a: Tensor = Tensor::zeros(&[3]);
            /// assert_eq!(Tensor::try_stack(&[&a, &a, &a], 1).unwrap().shape(), &[3, 3]);
            /// assert!(Tensor::try_stack(&[&a], 2).is_err());
            /// ```
            #[track_caller]
            pub fn try_stack(values: &[&$ty<T>], dim: impl $crate::Dim) -> $crate::Result<$ty<T>> {
                let _site = $crate::autograd::anomaly::enter(std::panic::Location::caller());
                let first = values.first().ok_or_else(|| {
                    $crate::Error::shape("stack", "expected at least one value to stack")
                })?;
                if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| v.dims() != first.dims()) {
                    return Err($crate::Error::shape(
                        "stack",
                        format!("value {i} has shape {:?}, value 0 has {:?}: stack needs equal shapes", v.dims(), first.dims()),
                    ));
                }
                let dim = $crate::dim::resolve_insert_dim("stack", dim, first.dims())?;
                let lifted = values
                    .iter()
                    .map(|v| v.try_unsqueeze(dim))
                    .collect::<$crate::Result<Vec<_>>>()?;
                let refs: Vec<&$ty<T>> = lifted.iter().collect();
                Self::try_cat(&refs, dim).map_err(|e| $crate::Error::new(e.kind(), "stack", e.message()))
            }

            $crate::operators::fallible! { $ty;
                /// The value reversed along each of `dims` (`torch.flip`): a copy.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::arange(0.0, 4.0, 1.0).reshape(&[2, 2]);
                /// assert_eq!(x.flip(&[1]).to_vec(), vec![1.0, 0.0, 3.0, 2.0]);
                /// assert_eq!(x.flip(&[0, 1]).to_vec(), vec![3.0, 2.0, 1.0, 0.0]);
                /// ```
                flip / try_flip (&self, dims: &[i64]) -> $ty<T> {
                    let dims = dims
                        .iter()
                        .map(|&d| $crate::dim::resolve_dim("flip", d, self.dims()))
                        .collect::<$crate::Result<$crate::shape::Shape>>()?;
                    $crate::ops::Value::try_apply($crate::ops::Flip { dims }.into(), &[self])
                }
            }

            $crate::operators::fallible! { $ty;
                /// The value surrounded by `value`: `pads[d] = (before, after)` elements
                /// along dim `d`, one pair per dim (`F.pad` with `mode="constant"`).
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::ones(&[2]);
                /// assert_eq!(x.pad(&[(1, 2)], 0.0).to_vec(), vec![0.0, 1.0, 1.0, 0.0, 0.0]);
                /// assert!(x.try_pad(&[(1, 1), (1, 1)], 0.0).is_err());
                /// ```
                pad / try_pad (&self, pads: &[(usize, usize)], value: T) -> $ty<T> {
                    let pad = $crate::ops::Pad { pads: pads.iter().copied().collect(), value };
                    $crate::ops::Value::try_apply(pad.into(), &[self])
                }
            }

            $crate::operators::fallible! { $ty;
                /// The lower triangle of the last two dims, from diagonal `k` down, the rest 0
                /// (`torch.tril`).
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::ones(&[2, 2]);
                /// assert_eq!(x.tril(0).to_vec(), vec![1.0, 0.0, 1.0, 1.0]);
                /// ```
                tril / try_tril (&self, k: i64) -> $ty<T> {
                    $crate::ops::Value::try_apply($crate::ops::Triangle { k, upper: false }.into(), &[self])
                }
            }

            $crate::operators::fallible! { $ty;
                /// The upper triangle of the last two dims, from diagonal `k` up
                /// (`torch.triu`).
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::ones(&[2, 2]);
                /// assert_eq!(x.triu(1).to_vec(), vec![0.0, 1.0, 0.0, 0.0]);
                /// ```
                triu / try_triu (&self, k: i64) -> $ty<T> {
                    $crate::ops::Value::try_apply($crate::ops::Triangle { k, upper: true }.into(), &[self])
                }
            }

            $crate::operators::fallible! { $ty;
                /// The entries at `index` (1-D) along `dim` (`torch.index_select`). An error
                /// for an index out of range.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::arange(0.0, 6.0, 1.0).reshape(&[3, 2]);
                /// let rows = x.index_select(0, &Tensor::from_vec(vec![2i64, 0], &[2]));
                /// assert_eq!(rows.to_vec(), vec![4.0, 5.0, 0.0, 1.0]);
                /// assert!(x.try_index_select(0, &Tensor::from_vec(vec![3i64], &[1])).is_err());
                /// ```
                index_select / try_index_select (&self, dim: impl $crate::Dim, index: &$indices) -> $ty<T> {
                    let dim = $crate::dim::resolve_dim("index_select", dim, self.dims())?;
                    let (index, extra) = $crate::ops::select::Operand::<i64, $ty<T>>::operand(index);
                    $crate::ops::select::apply_with($crate::ops::IndexSelect { dim, index }.into(), &[self], extra)
                }
            }

            $crate::operators::fallible! { $ty;
                /// `out[i][j] = x[i][index[i][j]]` for `dim = 1` (`torch.gather`): the result
                /// has the index's shape.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
                /// let picked = x.gather(1, &Tensor::from_vec(vec![1i64, 0], &[2, 1]));
                /// assert_eq!(picked.to_vec(), vec![2.0, 3.0]);
                /// ```
                gather / try_gather (&self, dim: impl $crate::Dim, index: &$indices) -> $ty<T> {
                    let dim = $crate::dim::resolve_dim("gather", dim, self.dims())?;
                    let (index, extra) = $crate::ops::select::Operand::<i64, $ty<T>>::operand(index);
                    $crate::ops::select::apply_with($crate::ops::Gather { dim, index }.into(), &[self], extra)
                }
            }

            $crate::operators::fallible! { $ty;
                /// A copy with `src[p]` added at `p` with its `dim` coordinate replaced by
                /// `index[p]` (`torch.scatter_add`); repeated indices add up. `src` may be
                /// larger than the index (only the index's extent is read).
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::zeros(&[3]);
                /// let index = Tensor::from_vec(vec![0i64, 2, 0], &[3]);
                /// let y = x.scatter_add(0, &index, &Tensor::ones(&[3]));
                /// assert_eq!(y.to_vec(), vec![2.0, 0.0, 1.0]);
                /// ```
                scatter_add / try_scatter_add (&self, dim: impl $crate::Dim, index: &$indices, src: &$ty<T>) -> $ty<T> {
                    let dim = $crate::dim::resolve_dim("scatter_add", dim, self.dims())?;
                    let (aux, extra) = $crate::ops::select::Operand::<i64, $ty<T>>::operand(index);
                    let index_shape: $crate::shape::Shape = match &extra {
                        Some(node) => node.dims().into(),
                        None => $crate::ops::select::given_shape(&aux),
                    };
                    $crate::array::index::check_gather_shapes("scatter_add", self.dims(), &index_shape, dim, Some(src.dims()))?;
                    // Only the index's extent of `src` is read: narrow it to that (a view).
                    let mut window = src.clone();
                    for (d, &n) in index_shape.iter().enumerate() {
                        window = window.try_narrow(d, 0, n)?;
                    }
                    let scatter = $crate::ops::Scatter { dim, index: aux, shape: self.dims().into() };
                    let added = $crate::ops::select::apply_with(scatter.into(), &[&window], extra)?;
                    self.try_add(&added)
                }
            }

            $crate::operators::fallible! { $ty;
                /// `value` where `mask` is true, the value elsewhere (`x.masked_fill(mask,
                /// v)`); the mask broadcasts.
                ///
                /// ```
                /// use tapegrad::Tensor;
                /// let x: Tensor = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]);
                /// let mask = Tensor::from_vec(vec![true, false, true], &[3]);
                /// assert_eq!(x.masked_fill(&mask, 0.0).to_vec(), vec![0.0, 2.0, 0.0]);
                /// ```
                masked_fill / try_masked_fill (&self, mask: &$mask, value: T) -> $ty<T> {
                    let (cond, extra) = $crate::ops::select::Operand::<bool, $ty<T>>::operand(mask);
                    let fill = $crate::ops::Value::try_apply($crate::ops::FullLike(value).into(), &[self])?;
                    $crate::ops::select::apply_with($crate::ops::Where { cond }.into(), &[&fill, self], extra)
                        .map_err(|e| $crate::Error::new(e.kind(), "masked_fill", e.message()))
                }
            }
        }
    };
}

pub(crate) use {index_methods, index_view_methods};
