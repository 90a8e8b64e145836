//! Long chains of recorded ops: dropping and walking them must not recurse once per node
//! (a 200,000-node chain overflows a 2 MiB test thread stack otherwise).

use tapegrad::Tensor;

#[test]
fn a_200000_node_chain_drops_and_backpropagates_without_overflow() {
    let x = Tensor::<f32>::from_vec(vec![1.0], &[1]).requires_grad_(true);
    let mut total = x.clone();
    for _ in 0..200_000 {
        total = &total + &x; // a chain: each node's input is the previous node
    }
    total.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![200_001.0]);
    drop(total); // frees 200,000 nodes
    let mut chain = x.clone();
    for _ in 0..200_000 {
        chain = &chain * 1.0;
    }
    drop(chain); // never walked: dropped while still holding saved values
}
