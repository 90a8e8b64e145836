//! Issue 15's fuzz suites: shapes with huge and overflowing dims through every `try_` op
//! that takes one (each must return `Err` or the exact result), and the safetensors loader
//! under random mutation. CI runs the default case counts; for a longer run:
//! `TAPEGRAD_FUZZ_CASES=100000 cargo test --release --test fuzz`.

#[path = "support/proptest_config.rs"]
mod proptest_config;

/// The fuzz suites' case count: `default` in CI (the whole file stays well inside its
/// 60 s budget), or `TAPEGRAD_FUZZ_CASES` for a longer run
/// (`TAPEGRAD_FUZZ_CASES=100000 cargo test --release --test reliability`).
pub fn fuzz_cases(default: u32) -> u32 {
    std::env::var("TAPEGRAD_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

mod shapes_fuzz {
    //! Shapes with huge and overflowing dims through the `try_` ops that take a shape:
    //! each must return `Err` or a tensor whose element count is the true product.

    use super::fuzz_cases;
    use super::proptest_config::config;
    use proptest::prelude::*;
    use tapegrad::shape::MAX_NUMEL;
    use tapegrad::Tensor;

    fn dim() -> impl Strategy<Value = usize> {
        prop_oneof![
            4 => 0usize..4,
            1 => Just(1 << 31),
            1 => Just(1 << 32),
            1 => Just(1 << 62),
            1 => Just((1 << 63) + 3),
            1 => Just(usize::MAX),
        ]
    }

    fn shape() -> impl Strategy<Value = Vec<usize>> {
        prop::collection::vec(dim(), 0..5)
    }

    /// The element count a tensor of `shape` may have, if any (the span of its strides,
    /// which skip zero dims, must fit too).
    fn expected(shape: &[usize]) -> Option<usize> {
        let span = shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d.max(1)))?;
        (span <= MAX_NUMEL).then(|| shape.iter().product())
    }

    proptest! {
        #![proptest_config(config(fuzz_cases(512)))]

        #[test]
        fn from_vec_and_reshape_are_err_or_exact(s in shape(), have in 0usize..30) {
            let data = vec![1.0f32; have];
            match Tensor::try_from_vec(data, &s) {
                Ok(t) => {
                    prop_assert_eq!(Some(t.numel()), expected(&s));
                    prop_assert_eq!(t.numel(), have);
                }
                Err(_) => prop_assert!(expected(&s) != Some(have)),
            }
            let small = Tensor::<f32>::zeros(&[have]);
            match small.try_reshape(&s) {
                Ok(t) => prop_assert_eq!((t.numel(), t.shape()), (have, s.as_slice())),
                Err(_) => prop_assert!(expected(&s) != Some(have)),
            }
        }

        #[test]
        fn broadcasts_are_err_or_exact(s in shape(), t in shape()) {
            // A view: no memory is touched, whatever the size.
            match Tensor::<f32>::scalar(1.0).try_broadcast_to(&s) {
                Ok(v) => prop_assert_eq!(Some(v.numel()), expected(&s)),
                Err(_) => prop_assert!(expected(&s).is_none()),
            }
            // Two broadcast views whose sum would be huge: an error, or small enough to compute.
            let (a, b) = (Tensor::<f32>::scalar(1.0), Tensor::<f32>::scalar(2.0));
            if let (Ok(a), Ok(b)) = (a.try_broadcast_to(&s), b.try_broadcast_to(&t))
                && a.numel().max(b.numel()) <= 4096
                    && let Ok(c) = a.try_add(&b) {
                        prop_assert!(c.to_vec().iter().all(|&v| v == 3.0));
                    }
        }

        #[test]
        fn creation_is_err_or_exact(s in shape()) {
            match expected(&s) {
                Some(n) if n <= 1 << 16 => {
                    prop_assert_eq!(Tensor::<i64>::try_zeros(&s).unwrap().numel(), n)
                }
                // Too large to fill here: only the refusal is checked.
                Some(_) => {}
                None => {
                    prop_assert!(Tensor::<f32>::try_zeros(&s).is_err());
                    prop_assert!(Tensor::<bool>::try_full(&s, true).is_err());
                }
            }
        }
    }
}

mod safetensors_fuzz {
    //! PyTorch-written files with random bytes changed, or cut short: loading returns `Ok`
    //! or `Err`, never panics, and an `Err` leaves the model as it was.

    use super::fuzz_cases;
    use super::proptest_config::config;
    use proptest::prelude::*;
    use tapegrad::nn::{self, Linear, Module, Relu, Sequential};

    fn model() -> Sequential {
        // The fixture's architecture (tests/fixtures/pytorch_reference.py).
        Sequential::new()
            .add(Linear::new(4, 3))
            .add(Relu)
            .add(Linear::new(3, 2))
    }

    fn values(m: &Sequential) -> Vec<Vec<f32>> {
        m.parameters().iter().map(|p| p.to_vec()).collect()
    }

    proptest! {
        #![proptest_config(config(fuzz_cases(256)))]

        #[test]
        fn mutated_files_load_or_fail_cleanly(
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            cut in prop::option::of(any::<prop::sample::Index>()),
        ) {
            let mut bytes = std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/torch_mlp_f32.safetensors"
            ))
            .unwrap();
            for (at, byte) in &edits {
                let i = at.index(bytes.len());
                bytes[i] = *byte;
            }
            if let Some(cut) = cut {
                bytes.truncate(cut.index(bytes.len()));
            }
            let path = std::env::temp_dir().join(format!(
                "tapegrad-fuzz-{}-{:?}.safetensors",
                std::process::id(),
                std::thread::current().id()
            ));
            std::fs::write(&path, &bytes).unwrap();
            let m = model();
            let before = values(&m);
            let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| nn::load(&m, &path)));
            let any = std::panic::catch_unwind(|| nn::load_tensors(&path).map(|t| t.len()));
            std::fs::remove_file(&path).ok();
            prop_assert!(loaded.is_ok() && any.is_ok(), "a corrupted file made load panic");
            if loaded.unwrap().is_err() {
                prop_assert_eq!(values(&m), before, "a failed load changed the model");
            }
        }
    }
}
