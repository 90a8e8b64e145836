//! Reproducers of issue 15's breaches: each returned a wrong `Ok`, panicked, aborted or
//! crashed before, and must now return an `Err` (or the right value). The fuzz suites are
//! in `tests/fuzz.rs`.

use tapegrad::{ErrorKind, Tensor};

const HUGE: usize = (1 << 63) + 3;

#[test]
fn element_counts_that_overflow_are_errors_not_wrong_tensors() {
    let six = Tensor::<f32>::arange(0.0, 6.0, 1.0);
    // Used to return Ok in release, and a later mm with its mirror segfaulted in the GEMM.
    let e = six.try_reshape(&[2, HUGE]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Shape);
    assert_eq!(e.op(), "reshape");
    assert!(six.try_view(&[HUGE, 2]).is_err());
    assert!(Tensor::<f32>::try_from_vec(vec![0.0; 6], &[HUGE, 2]).is_err());
    // Used to return Ok with numel 0.
    assert!(Tensor::<f32>::try_from_vec(vec![], &[1 << 32, 1 << 32]).is_err());
    let scalar = Tensor::<f32>::scalar(1.0);
    let e = scalar.try_broadcast_to(&[1 << 32, 1 << 32]).unwrap_err();
    assert_eq!(e.op(), "broadcast_to");
    // A zero dim does not hide an overflowing span of strides.
    assert!(Tensor::<f32>::try_zeros(&[0, 1 << 62, 1 << 62]).is_err());
    // Results whose element count would overflow, from valid operands.
    let column = Tensor::<f32>::zeros(&[1, 1]).broadcast_to(&[1 << 40, 1]);
    let row = Tensor::<f32>::zeros(&[1, 1]).broadcast_to(&[1, 1 << 40]);
    assert_eq!(
        column.try_matmul(&row).unwrap_err().kind(),
        ErrorKind::Shape
    );
    assert_eq!(column.try_add(&row).unwrap_err().kind(), ErrorKind::Shape);
}

#[test]
fn creation_with_absurd_sizes_is_an_error() {
    assert_eq!(
        Tensor::<f32>::try_zeros(&[usize::MAX, 2])
            .unwrap_err()
            .to_string(),
        format!(
            "zeros: shape [{}, 2] has more elements than a tensor can hold (at most {})",
            usize::MAX,
            tapegrad::shape::MAX_NUMEL
        )
    );
    assert!(Tensor::<i64>::try_ones(&[1 << 62, 4]).is_err());
    assert!(Tensor::<bool>::try_full(&[HUGE], true).is_err());
    // eye(1 << 32) returned an inconsistent tensor in release.
    assert!(Tensor::<f32>::try_eye(1 << 32).is_err());
    assert_eq!(
        Tensor::<f64>::eye(3).to_vec(),
        vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    );
    // arange: 1e19 panicked with "capacity overflow", 1e30 silently gave an empty tensor.
    assert!(Tensor::<f64>::try_arange(0.0, 1e19, 1.0).is_err());
    let e = Tensor::<f64>::try_arange(0.0, 1e30, 1.0).unwrap_err();
    assert_eq!(e.op(), "arange");
}

#[test]
fn a_size_the_machine_cannot_hold_is_out_of_memory_not_an_abort() {
    // 2^58 f64 elements (2 EiB) passes the element-count check but no allocator has it.
    let e = Tensor::<f64>::try_zeros(&[1 << 29, 1 << 29]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OutOfMemory);
    assert_eq!(e.op(), "zeros");
    let e = Tensor::<f32>::try_arange(0.0, 3e17, 1.0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OutOfMemory);
}

/// Runs each job on its own thread and fails if they have not all finished in `limit`
/// (a deadlock would otherwise hang the test run).
/// The jobs start together, behind a barrier, so that they overlap.
fn finishes_within(limit: std::time::Duration, jobs: Vec<Box<dyn FnOnce() + Send>>) {
    let (done, finished) = std::sync::mpsc::channel();
    let count = jobs.len();
    let start = std::sync::Arc::new(std::sync::Barrier::new(count));
    for job in jobs {
        let (done, start) = (done.clone(), start.clone());
        std::thread::spawn(move || {
            start.wait();
            job();
            let _ = done.send(());
        });
    }
    let deadline = std::time::Instant::now() + limit;
    for _ in 0..count {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        finished
            .recv_timeout(left)
            .expect("threads deadlocked: not finished in time");
    }
}

#[test]
fn crossed_in_place_ops_on_two_threads_do_not_deadlock() {
    // Deadlocked in 6 of 10 runs: each thread held one storage's lock and waited for the
    // other's.
    let a = Tensor::<f32>::zeros(&[4096]);
    let b = Tensor::<f32>::zeros(&[4096]);
    let rounds = 20_000;
    let (a1, b1, a2, b2) = (a.clone(), b.clone(), a.clone(), b.clone());
    finishes_within(
        std::time::Duration::from_secs(30),
        vec![
            Box::new(move || {
                for _ in 0..rounds {
                    tapegrad::no_grad(|| a1.add_(&b1));
                }
            }),
            Box::new(move || {
                for _ in 0..rounds {
                    tapegrad::no_grad(|| b2.add_(&a2));
                }
            }),
        ],
    );
}

#[test]
fn reads_copies_and_fills_across_three_threads_do_not_deadlock() {
    // `&a + &b`, `b.copy_(&a)` and `a.fill_(1.)` together deadlocked in 7 of 10 runs.
    let a = Tensor::<f32>::ones(&[4096]);
    let b = Tensor::<f32>::ones(&[4096]);
    let rounds = 20_000;
    let (a1, b1, a2, b2, a3) = (a.clone(), b.clone(), a.clone(), b.clone(), a.clone());
    finishes_within(
        std::time::Duration::from_secs(30),
        vec![
            Box::new(move || {
                for _ in 0..rounds {
                    std::hint::black_box(&a1 + &b1);
                }
            }),
            Box::new(move || {
                for _ in 0..rounds {
                    tapegrad::no_grad(|| b2.copy_(&a2));
                }
            }),
            Box::new(move || {
                for _ in 0..rounds {
                    tapegrad::no_grad(|| a3.fill_(1.0));
                }
            }),
        ],
    );
    assert_eq!(a.to_vec(), vec![1.0; 4096]);
}

fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tapegrad-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn temporary_files(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

#[test]
fn concurrent_saves_to_one_path_each_leave_a_complete_file() {
    use tapegrad::nn::{self, Linear};
    // Two threads saving 300 times each to one path: 198 saves failed and a reader found a
    // corrupt file 172 times in 3,192 reads, when the temporary name was per process.
    let dir = scratch_dir("concurrent-save");
    let path = dir.join("model.safetensors");
    nn::save(&Linear::<f32>::new(64, 64), &path).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (path, stop) = (path.clone(), stop.clone());
        std::thread::spawn(move || {
            let (mut reads, model) = (0, Linear::<f32>::new(64, 64));
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                nn::load(&model, &path).expect("a reader always finds a complete file");
                reads += 1;
            }
            reads
        })
    };
    let writers: Vec<_> = (0..2)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                let model = Linear::<f32>::new(64, 64);
                for _ in 0..150 {
                    nn::save(&model, &path).expect("every save succeeds");
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
    assert_eq!(temporary_files(&dir), Vec::<String>::new());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_failed_save_leaves_no_temporary_file_and_load_reads_only_regular_files() {
    use tapegrad::nn::{self, Linear};
    let dir = scratch_dir("failed-save");
    // The target is a directory: the rename fails, and the temporary file goes.
    let target = dir.join("taken");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("inside"), b"x").unwrap();
    let e = nn::save(&Linear::<f32>::new(2, 2), &target).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
    assert_eq!(temporary_files(&dir), Vec::<String>::new());
    // load refuses a directory and a device instead of reading it (/dev/zero never ends).
    let model = Linear::<f32>::new(2, 2);
    let e = nn::load(&model, &dir).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("load: {} is not a regular file", dir.display())
    );
    if std::path::Path::new("/dev/zero").exists() {
        assert_eq!(
            nn::load(&model, "/dev/zero").unwrap_err().kind(),
            ErrorKind::Io
        );
        assert!(nn::load_tensors("/dev/zero").is_err());
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_run_missing_a_feed_changes_no_variable() {
    use tapegrad::graph::{Graph, Session};
    // The assign used to run before the missing placeholder was found.
    let g = Graph::<f32>::new();
    let w = g.variable("w", &Tensor::ones(&[2]));
    let x = g.placeholder("x", &[2]);
    let step = w.assign(&(&w * 2.0));
    let loss = (&step * &x).sum();
    let sess = Session::new(&g);
    let e = sess.run(&[&loss], &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "run: missing feed for placeholder 'x' (shape [2])"
    );
    assert_eq!(g.variable_value(&w).unwrap().to_vec(), vec![1.0, 1.0]);
}

#[test]
fn a_session_keeps_a_bounded_number_of_plans() {
    use tapegrad::graph::{Graph, Session};
    // 40,000 distinct fetch sets grew the plan cache by 11.7 MB; now the oldest plans go.
    let g = Graph::<f32>::new();
    let x = g.placeholder("x", &[1]);
    let nodes: Vec<_> = (0..200).map(|i| &x * (i as f32)).collect();
    let sess = Session::new(&g);
    let one = Tensor::ones(&[1]);
    for round in 0..3 {
        for (i, n) in nodes.iter().enumerate() {
            let out = sess.run(&[n], &[(&x, &one)]).unwrap();
            assert_eq!(out[0].item(), i as f32, "round {round}");
        }
    }
    assert!(
        sess.cached_plans() <= 64,
        "{} plans kept",
        sess.cached_plans()
    );
}

#[test]
fn requires_grad_off_on_a_non_leaf_is_an_error_from_the_try_form() {
    let w = Tensor::<f32>::ones(&[2]).requires_grad_(true);
    let e = (&w * 2.0).try_requires_grad_(false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Autograd);
    assert!(w.try_requires_grad_(false).is_ok());
    // t() of a 3-D tensor: a try form now.
    assert_eq!(
        Tensor::<f32>::zeros(&[1, 2, 3]).try_t().unwrap_err().op(),
        "t"
    );
}

#[test]
fn cross_entropy_is_exact_with_masked_logits() {
    use tapegrad::nn::functional::{cross_entropy_with, log_softmax, Reduction};
    // >>> x = torch.tensor([[-inf, 0., 0.], [1., -inf, 2.], [-inf, -inf, -inf]], dtype=torch.float64, requires_grad=True)
    // >>> l = F.cross_entropy(x, torch.tensor([1, 2, 0]), reduction='none')
    // tensor([0.6931, 0.3133, nan])
    // >>> l[:2].sum().backward(); x.grad[:2]
    // tensor([[ 0.0000, -0.5000,  0.5000], [ 0.2689,  0.0000, -0.2689]])
    let inf = f64::INFINITY;
    let x = Tensor::<f64>::from_vec(
        vec![-inf, 0.0, 0.0, 1.0, -inf, 2.0, -inf, -inf, -inf],
        &[3, 3],
    )
    .requires_grad_(true);
    let losses = cross_entropy_with(&x, &[1, 2, 0], Reduction::None);
    let values = losses.to_vec();
    assert!((values[0] - 2f64.ln()).abs() < 1e-15, "{values:?}");
    assert!(
        (values[1] - 0.31326168751822286).abs() < 1e-15,
        "{values:?}"
    );
    assert!(
        values[2].is_nan(),
        "an all-masked row is NaN, as in PyTorch"
    );
    losses.narrow(0, 0, 2).sum().backward();
    let grad = x.grad().unwrap().to_vec();
    let expected = [0.0, -0.5, 0.5, 0.2689414213699951, 0.0, -0.2689414213699951];
    for (g, e) in grad[..6].iter().zip(expected) {
        assert!((g - e).abs() < 1e-15, "{grad:?}");
    }
    // >>> y = F.log_softmax(torch.tensor([[-inf, 0., 0.]]), 1); y.sum().backward()
    // y = [[-inf, -0.6931, -0.6931]], grad = [[1.0, -0.5, -0.5]]
    let z = Tensor::<f64>::from_vec(vec![-inf, 0.0, 0.0], &[1, 3]).requires_grad_(true);
    let y = log_softmax(&z, 1);
    assert_eq!(y.to_vec()[0], -inf);
    y.sum().backward();
    let grad = z.grad().unwrap().to_vec();
    assert!(
        (grad[0] - 1.0).abs() < 1e-15 && (grad[1] + 0.5).abs() < 1e-15,
        "{grad:?}"
    );
}

#[test]
fn a_failing_backward_changes_no_gradient() {
    let v = Tensor::<f64>::from_vec(vec![0.5, 1.0], &[2]).requires_grad_(true);
    let w = Tensor::<f64>::from_vec(vec![1.0, 2.0], &[2]).requires_grad_(true);
    let h = v.exp(); // saves its output
    let loss = h.sum() + (&w * 2.0).sum();
    // Changing the saved output makes backward fail at exp, after w's gradient (from a
    // newer node) would already have been added.
    tapegrad::no_grad(|| h.add_(&Tensor::ones(&[2])));
    let e = loss.try_backward().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Autograd);
    assert!(
        w.grad().is_none(),
        "w's gradient was accumulated before the error"
    );
    assert!(v.grad().is_none());
    // The same graph without the in-place change: both gradients arrive.
    let h = v.exp();
    let loss = h.sum() + (&w * 2.0).sum();
    loss.backward();
    assert_eq!(w.grad().unwrap().to_vec(), vec![2.0, 2.0]);
    assert_eq!(v.grad().unwrap().to_vec(), v.exp().to_vec());
}

#[test]
fn a_view_that_must_copy_what_the_allocator_refuses_is_out_of_memory() {
    // A broadcast view of 2^46 f32 (256 TiB) costs nothing; reshaping or making it
    // contiguous copies it, which no allocator can. This panicked silently before (the
    // allocation failure's payload escaped the view path, and its hook prints nothing).
    let big = Tensor::<f32>::zeros(&[1]).broadcast_to(&[1 << 23, 1 << 23]);
    let e = big.try_reshape(&[1usize << 46]).unwrap_err();
    assert_eq!(
        (e.kind(), e.op()),
        (ErrorKind::OutOfMemory, "reshape"),
        "{e}"
    );
    let e = big.try_contiguous().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OutOfMemory, "{e}");
    assert_eq!(big.shape(), &[1 << 23, 1 << 23]);
}

#[test]
fn an_op_result_the_allocator_refuses_is_out_of_memory_not_an_abort() {
    // Inputs that exist (a broadcast view costs nothing), a result that passes the element
    // count check but cannot exist: 2^23 x 2^23 f32 is 256 TiB, more than x86-64's 128 TiB
    // of user address space, so even an overcommitting allocator refuses it.
    let column = Tensor::<f32>::zeros(&[1]).broadcast_to(&[1 << 23, 1]);
    let row = Tensor::<f32>::zeros(&[1]).broadcast_to(&[1, 1 << 23]);
    for (what, result) in [
        ("matmul", column.try_mm(&row)),
        ("add", column.try_add(&row)),
        ("mul", column.try_mul(&row)),
    ] {
        match result {
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::OutOfMemory, "{what}: {e}");
                assert_eq!(e.op(), what);
            }
            Ok(t) => panic!("{what}: a result of shape {:?} was made", t.shape()),
        }
    }
    // The process goes on: a normal op still works.
    assert_eq!(
        (Tensor::<f32>::ones(&[2]) + Tensor::ones(&[2])).to_vec(),
        vec![2.0, 2.0]
    );
}

#[test]
fn a_save_clears_the_temporary_files_of_killed_saves() {
    use tapegrad::nn::{self, Linear};
    if !std::path::Path::new("/proc/self").exists() {
        return; // where no /proc tells which processes run, nothing is removed
    }
    let dir = scratch_dir("stale-tmp");
    // A process that has ended: its pid names no running process (a killed save's).
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let stale = dir.join(format!(".model.safetensors.{dead}-0-00000000deadbeef.tmp"));
    std::fs::write(&stale, vec![0u8; 1024]).unwrap();
    // A live process's temporary file (this one's: a concurrent save) and another file's
    // are left alone.
    let ours = dir.join(format!(
        ".model.safetensors.{}-999-0000000000000001.tmp",
        std::process::id()
    ));
    std::fs::write(&ours, b"in progress").unwrap();
    let other = dir.join(format!(".other.safetensors.{dead}-0-0000000000000002.tmp"));
    std::fs::write(&other, b"not ours").unwrap();
    let layer: Linear = Linear::new(2, 2);
    nn::save(&layer, dir.join("model.safetensors")).unwrap();
    assert!(!stale.exists(), "the dead process's temporary file is gone");
    assert!(ours.exists() && other.exists());
    let mut left = temporary_files(&dir);
    left.sort();
    assert_eq!(left.len(), 2, "{left:?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bce_with_logits_gives_pytorchs_values_at_infinite_logits() {
    // import torch, torch.nn.functional as F; inf = float("inf")
    // x = torch.tensor([inf, -inf, inf, -inf, inf, -inf, 0., float("nan")], dtype=torch.float64, requires_grad=True)
    // t = torch.tensor([1., 0., 0., 1., 0.5, 0.5, 1., 1.], dtype=torch.float64)
    // l = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    //   -> [nan, nan, inf, nan, inf, nan, 0.6931471805599453, nan]
    // l.sum().backward(); x.grad -> [0, 0, 1, -1, 0.5, -0.5, -0.5, nan]
    use tapegrad::nn::functional::{binary_cross_entropy_with_logits_with, Reduction};
    let inf = f64::INFINITY;
    let x = Tensor::from_vec(vec![inf, -inf, inf, -inf, inf, -inf, 0.0, f64::NAN], &[8])
        .requires_grad_(true);
    let t = Tensor::from_vec(vec![1.0, 0.0, 0.0, 1.0, 0.5, 0.5, 1.0, 1.0], &[8]);
    let l = binary_cross_entropy_with_logits_with(&x, &t, Reduction::None);
    let show = |v: Vec<f64>| v.iter().map(|x| format!("{x:?}")).collect::<Vec<_>>();
    assert_eq!(
        show(l.to_vec()),
        [
            "NaN",
            "NaN",
            "inf",
            "NaN",
            "inf",
            "NaN",
            "0.6931471805599453",
            "NaN"
        ]
    );
    l.sum().backward();
    assert_eq!(
        show(x.grad().unwrap().to_vec()),
        ["0.0", "0.0", "1.0", "-1.0", "0.5", "-0.5", "-0.5", "NaN"]
    );
}

#[test]
#[cfg(unix)] // symlinks as Unix makes them
fn save_refuses_a_read_only_target_and_plants_do_not_redirect_it() {
    use std::os::unix::fs::symlink;
    use tapegrad::nn::{self, Linear};
    let dir = scratch_dir("readonly");
    let layer: Linear = Linear::new(2, 2);
    // A read-only model file stays as it was (a rename would replace it silently).
    let locked = dir.join("locked.safetensors");
    std::fs::write(&locked, b"keep me").unwrap();
    let mut permissions = std::fs::metadata(&locked).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&locked, permissions).unwrap();
    let e = nn::save(&layer, &locked).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
    assert!(e.to_string().contains("read-only"), "{e}");
    assert_eq!(std::fs::read(&locked).unwrap(), b"keep me");
    assert!(temporary_files(&dir).is_empty());
    // A symlink planted at the old predictable temporary name, pointing at a file to
    // protect: the save writes its own exclusive file, and the victim is untouched.
    let victim = dir.join("victim");
    std::fs::write(&victim, b"victim").unwrap();
    let target = dir.join("model.safetensors");
    symlink(
        &victim,
        dir.join(format!(".model.safetensors.{}.tmp", std::process::id())),
    )
    .unwrap();
    nn::save(&layer, &target).unwrap();
    assert_eq!(std::fs::read(&victim).unwrap(), b"victim");
    nn::load(&Linear::<f32>::new(2, 2), &target).unwrap();
    // A directory at the target's name is refused too.
    let e = nn::save(&layer, &dir).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_session_fetching_a_result_the_allocator_refuses_returns_out_of_memory() {
    use tapegrad::graph::{Graph, Session};
    // The issue's reproducer: a run fetching a [2^18, 2^18] f32 result (256 GiB) aborted.
    let g = Graph::<f32>::new();
    let a = g.placeholder("a", &[1 << 18, 1]);
    let b = g.placeholder("b", &[1, 1 << 18]);
    let outer = a.matmul(&b);
    let column = Tensor::<f32>::zeros(&[1]).broadcast_to(&[1 << 18, 1]);
    let row = Tensor::<f32>::zeros(&[1]).broadcast_to(&[1, 1 << 18]);
    let sess = Session::new(&g);
    let e = sess
        .run(&[&outer], &[(&a, &column), (&b, &row)])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OutOfMemory, "{e}");
    // The session still runs a fetch that fits.
    let sum = sess.run(&[&a.sum()], &[(&a, &column)]).unwrap();
    assert_eq!(sum[0].item(), 0.0);
}

/// Runs the test `name` of this binary again in a child process whose address space is
/// capped at `gib` GiB (`ulimit -v`), and asserts that it passed. Inside the child,
/// `TAPEGRAD_LIMITED_CHILD` is set. The cap makes "the allocator refuses" the same on
/// every machine: without it, an overcommitting 64 GiB machine would grant the issue's
/// 16 GiB reproducers and spend a minute filling them.
#[cfg(target_os = "linux")]
fn in_a_child_capped_at(gib: u64, name: &str) -> bool {
    if std::env::var_os("TAPEGRAD_LIMITED_CHILD").is_some() {
        return true;
    }
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {} && exec \"$0\" --exact {name} --test-threads=1",
            gib << 20
        ))
        .arg(std::env::current_exe().unwrap())
        .env("TAPEGRAD_LIMITED_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "the capped child failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    false
}

#[test]
#[cfg(target_os = "linux")]
fn the_issues_huge_results_are_out_of_memory_in_a_capped_process() {
    if !in_a_child_capped_at(
        4,
        "the_issues_huge_results_are_out_of_memory_in_a_capped_process",
    ) {
        return;
    }
    // The issue's reproducers, as written there: each aborted the process.
    // A [2^16, 2^16] f32 matmul result: 16 GiB.
    let e = Tensor::<f32>::zeros(&[1 << 16, 1])
        .try_mm(&Tensor::zeros(&[1, 1 << 16]))
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.op()),
        (ErrorKind::OutOfMemory, "matmul"),
        "{e}"
    );
    // A broadcast add to [2^16, 2^16].
    let e = Tensor::<f32>::zeros(&[1 << 16, 1])
        .try_add(&Tensor::zeros(&[1 << 16]))
        .unwrap_err();
    assert_eq!((e.kind(), e.op()), (ErrorKind::OutOfMemory, "add"), "{e}");
    // 3e9 f32 values: 12 GiB.
    let e = Tensor::<f32>::try_arange(0.0, 3e9, 1.0).unwrap_err();
    assert_eq!(
        (e.kind(), e.op()),
        (ErrorKind::OutOfMemory, "arange"),
        "{e}"
    );
    // The process goes on, and an op that fits still runs.
    let a = Tensor::<f32>::ones(&[256, 1]).mm(&Tensor::ones(&[1, 256]));
    assert_eq!(a.sum().item(), 65536.0);
}
