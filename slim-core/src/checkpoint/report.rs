//! The account a restore gives: what was applied, missing, unused or of another shape.

use std::fmt;

/// What an `assign_from_checkpoint` did (or would have done, when it refused).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AssignReport {
    /// The checkpoint read.
    pub checkpoint: String,
    /// `(variable, checkpoint entry)` pairs applied.
    pub applied: Vec<(String, String)>,
    /// `(variable, checkpoint entry)` pairs whose entry the checkpoint lacks.
    pub missing: Vec<(String, String)>,
    /// Checkpoint entries no variable asked for.
    pub unused: Vec<String>,
    /// `(variable, entry, variable shape, entry shape)` for entries of another shape.
    pub mismatched: Vec<(String, String, Vec<i64>, Vec<i64>)>,
}

impl AssignReport {
    /// The first line: how many of each.
    pub fn summary(&self) -> String {
        format!(
            "restore from {}: {} applied, {} missing, {} unused, {} mismatched",
            self.checkpoint,
            self.applied.len(),
            self.missing.len(),
            self.unused.len(),
            self.mismatched.len()
        )
    }

    /// The summary and one line for each missing entry and each entry of another shape: why a restore refused.
    pub(crate) fn problems(&self) -> String {
        let mut text = self.summary();
        for line in self.missing_lines().chain(self.mismatched_lines()) {
            text.push('\n');
            text.push_str(&line);
        }
        text
    }

    fn missing_lines(&self) -> impl Iterator<Item = String> + '_ {
        self.missing
            .iter()
            .map(|(variable, entry)| format!("  missing     {variable:<48} (no {entry} in the checkpoint)"))
    }

    fn mismatched_lines(&self) -> impl Iterator<Item = String> + '_ {
        let line = |(variable, entry, shape, found): &(String, String, Vec<i64>, Vec<i64>)| {
            format!("  mismatched  {variable:<48} {shape:?} but {entry} is {found:?}")
        };
        self.mismatched.iter().map(line)
    }
}

/// The summary, then a line for every entry applied, missing, unused or mismatched.
impl fmt::Display for AssignReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.summary())?;
        for (variable, entry) in &self.applied {
            writeln!(f, "  applied     {variable:<48} <- {entry}")?;
        }
        for line in self.missing_lines() {
            writeln!(f, "{line}")?;
        }
        for entry in &self.unused {
            writeln!(f, "  unused      {entry}")?;
        }
        for line in self.mismatched_lines() {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}
