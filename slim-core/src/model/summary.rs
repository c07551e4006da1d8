//! A model's variables with shapes and sizes, like TF's `model_analyzer.analyze_vars`.

use std::fmt;

use crate::variables::Variable;

/// The variables under a model's scope: name, shape, element count; and the totals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelSummary {
    /// The model's type name.
    pub model: String,
    /// One row per variable: full name, shape, element count, trainable.
    pub rows: Vec<(String, Vec<i64>, i64, bool)>,
}

impl ModelSummary {
    /// The summary of `variables`, in creation order.
    pub(crate) fn new(model: &str, variables: &[Variable]) -> Self {
        let rows = variables.iter().map(|v| (v.name().to_string(), v.shape(), v.numel(), v.is_trainable())).collect();
        ModelSummary { model: model.to_string(), rows }
    }

    /// Elements in all variables.
    pub fn total_size(&self) -> i64 {
        self.rows.iter().map(|(_, _, size, _)| size).sum()
    }

    /// Elements in the trainable variables.
    pub fn trainable_size(&self) -> i64 {
        self.rows.iter().filter(|(_, _, _, trainable)| *trainable).map(|(_, _, size, _)| size).sum()
    }
}

impl fmt::Display for ModelSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}: {} variables", self.model, self.rows.len())?;
        for (name, shape, size, trainable) in &self.rows {
            let dims = shape.iter().map(i64::to_string).collect::<Vec<_>>().join("x");
            let frozen = if *trainable { "" } else { ", not trainable" };
            writeln!(f, "  {name} ({dims}) [{size}{frozen}]")?;
        }
        writeln!(f, "Total size of variables: {}", self.total_size())?;
        write!(f, "Total trainable size: {}", self.trainable_size())
    }
}
