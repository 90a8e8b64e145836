#!/usr/bin/env bash
# What the storages' locks cost a training step: the `instructions` bench of the
# committed HEAD, built twice, as it is and with every storage lock replaced by a "lock"
# that does nothing, the two taking turns (benches/alternate.py). MEASUREMENT ONLY: the
# second build is unsound as soon as two threads touch one tensor, and it exists only in
# a scratch checkout under target/, never in the crate.
#
# Why it matters: `Tensor` is `Send + Sync` and in-place ops take `&self` (../shared/API.md,
# as PyTorch's do), so every read of a storage takes its read lock, and a step of the
# lecture's manual slide (W1) takes 32 locked instructions. This script measures how much
# of the step they are, the floor under that contract (BENCHMARKS.md, "Speed II,
# eighteenth part").
#
#   bash benches/unlocked.sh                 # W1, 41 rounds of 100000 steps
#   bash benches/unlocked.sh W3 50000 31     # workload, steps, rounds
set -euo pipefail
cd "$(dirname "$0")/.."
workload=${1:-W1}
steps=${2:-100000}
rounds=${3:-41}
root=$PWD
scratch=$root/target/unlocked-src
out=$(mktemp -d)
cleanup() {
  git -C "$root" worktree remove --force "$scratch" 2>/dev/null || true
  rm -rf "$out"
}
trap cleanup EXIT

# The path of the `instructions` bench built in the current directory.
build() {
  cargo bench -p tapegrad-benches --bench instructions --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "instructions" and m.get("executable"):
        print(m["executable"])'
}

git worktree remove --force "$scratch" 2>/dev/null || true
git worktree add --quiet --detach "$scratch" HEAD
cp "$(build)" "$out/locked"

cd "$scratch"
cat > src/array/nolock.rs <<'EOF'
//! MEASUREMENT ONLY (benches/unlocked.sh): std's `RwLock` API over an `UnsafeCell`, with
//! no lock at all. Unsound as soon as two threads touch one storage.
use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::LockResult;

#[derive(Debug)]
pub(crate) struct RwLock<T>(UnsafeCell<T>);
// SAFETY: none; single-threaded measurement only.
unsafe impl<T: Send> Sync for RwLock<T> {}
pub(crate) struct RwLockReadGuard<'a, T>(&'a T);
pub(crate) struct RwLockWriteGuard<'a, T>(&'a mut T);

impl<T> RwLock<T> {
    pub(crate) fn new(value: T) -> Self {
        RwLock(UnsafeCell::new(value))
    }
    pub(crate) fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        // SAFETY: none; see above.
        Ok(RwLockReadGuard(unsafe { &*self.0.get() }))
    }
    pub(crate) fn write(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
        // SAFETY: none; see above.
        Ok(RwLockWriteGuard(unsafe { &mut *self.0.get() }))
    }
    pub(crate) fn get_mut(&mut self) -> LockResult<&mut T> {
        Ok(self.0.get_mut())
    }
}
impl<T> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.0
    }
}
impl<T> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.0
    }
}
impl<T> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.0
    }
}
EOF
# The storage lock's two imports; stop if they have moved (this script then needs an edit).
swap() {
  grep -qxF "$2" "$1" || { echo "unlocked.sh: '$2' not found in $1" >&2; exit 1; }
  python3 - "$@" <<'PY'
import sys
path, old, new = sys.argv[1:]
text = open(path).read()
open(path, "w").write(text.replace(old + "\n", new + "\n", 1))
PY
}
swap src/array/mod.rs "use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};" \
  "use std::sync::{Arc, PoisonError};
mod nolock;
pub(crate) use nolock::{RwLock, RwLockReadGuard, RwLockWriteGuard};"
swap src/array/select.rs "use std::sync::RwLockReadGuard;" "use super::RwLockReadGuard;"
cp "$(CARGO_TARGET_DIR=$root/target/unlocked build)" "$out/unlocked"
cd "$root"

python3 benches/alternate.py "$out/locked" "$out/unlocked" --workload "$workload" \
  --steps "$steps" --rounds "$rounds"
