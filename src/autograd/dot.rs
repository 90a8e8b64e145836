//! The recorded graph as Graphviz DOT, so a learner can look at what backward will walk.

use super::backward_name;
use super::tape::Edge;
use crate::element::Float;
use crate::tensor::Tensor;
use std::collections::HashSet;
use std::fmt::Write;

/// Ops are boxes (with PyTorch's `...Backward` name and output shape), leaves that require
/// grad are blue ellipses, constants are grey; arrows follow the data, from input to op.
pub(crate) fn to_dot<T: Float>(root: &Tensor<T>) -> String {
    let mut out =
        String::from("digraph tapegrad {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n");
    let Some(root_node) = &root.0.grad_fn else {
        let _ = writeln!(
            out,
            "  leaf [label=\"leaf {:?}\" shape=ellipse];\n}}",
            root.shape()
        );
        return out;
    };
    let mut seen = HashSet::new();
    let mut stack = vec![std::sync::Arc::clone(root_node)];
    let mut leaf_ids = 0usize;
    let mut seen_leaves = HashSet::new();
    while let Some(node) = stack.pop() {
        if !seen.insert(node.seq) {
            continue;
        }
        let _ = writeln!(
            out,
            "  n{} [label=\"{}\\n{:?}\" shape=box];",
            node.seq,
            backward_name(node.op.name()),
            node.output_shape.as_slice()
        );
        for (k, edge) in node.inputs.iter().enumerate() {
            match edge {
                Edge::Node(input) => {
                    let _ = writeln!(out, "  n{} -> n{};", input.seq, node.seq);
                    stack.push(std::sync::Arc::clone(input));
                }
                Edge::Leaf(t) => {
                    // A leaf is drawn once however many ops use it: key it by its handle.
                    let id = std::sync::Arc::as_ptr(&t.0) as usize;
                    if seen_leaves.insert(id) {
                        let _ = writeln!(
                            out,
                            "  p{id} [label=\"leaf {:?}\\nrequires_grad\" shape=ellipse style=filled fillcolor=lightblue];",
                            t.shape()
                        );
                    }
                    let _ = writeln!(out, "  p{id} -> n{};", node.seq);
                }
                Edge::Constant => {
                    leaf_ids += 1;
                    let _ = writeln!(
                        out,
                        "  c{leaf_ids} [label=\"constant {:?}\" shape=ellipse style=filled fillcolor=lightgrey];\n  c{leaf_ids} -> n{};",
                        node.input_shapes[k].as_slice(),
                        node.seq
                    );
                }
            }
        }
    }
    out.push_str("}\n");
    out
}
