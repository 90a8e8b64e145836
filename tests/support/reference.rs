//! Reading the reference files the `tests/fixtures/*_reference.py` scripts write:
//! blocks of `case <name>`, `value <shape> <numbers>` and `grad <numbers>` lines.

/// One reference case: PyTorch's value (shape and numbers) and input gradients.
pub struct Case {
    pub name: String,
    pub shape: Vec<usize>,
    pub value: Vec<f64>,
    pub grads: Vec<Vec<f64>>,
}

/// The cases of a reference file's text.
pub fn parse(text: &str) -> Vec<Case> {
    let numbers = |s: &str| -> Vec<f64> {
        s.split_whitespace()
            .map(|v| v.parse().expect("a number"))
            .collect()
    };
    let mut cases: Vec<Case> = Vec::new();
    for line in text.lines() {
        let (kind, rest) = line.split_once(' ').expect("a tagged line");
        match kind {
            "case" => cases.push(Case {
                name: rest.to_string(),
                shape: Vec::new(),
                value: Vec::new(),
                grads: Vec::new(),
            }),
            "value" => {
                let (shape, values) = rest.split_once(' ').unwrap_or((rest, ""));
                let case = cases.last_mut().expect("a case first");
                case.shape = shape
                    .trim_matches(|c| c == '[' || c == ']')
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|d| d.parse().expect("a dim"))
                    .collect();
                case.value = numbers(values);
            }
            "grad" => cases
                .last_mut()
                .expect("a case first")
                .grads
                .push(numbers(rest)),
            other => panic!("unknown line kind {other}"),
        }
    }
    cases
}
