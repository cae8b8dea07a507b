//! The problems found in a set of answers, reported all together.

use std::fmt;

/// One problem with the answers: where, and what is wrong and allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
    /// A required answer that was not given (rather than a wrong one), so
    /// the hint about how to supply answers applies.
    pub missing: bool,
}

/// Every problem found in a set of answers, in field order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// A value that breaks a rule.
    pub(super) fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            path: path.into(),
            message: message.into(),
            missing: false,
        });
    }

    /// A required answer that was not given; `what` says what to give.
    pub(super) fn push_missing(&mut self, path: impl Into<String>, what: impl fmt::Display) {
        self.0.push(Problem {
            path: path.into(),
            message: format!("missing: {what}"),
            missing: true,
        });
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        writeln!(
            f,
            "the answers have {count} problem{}:",
            if count == 1 { "" } else { "s" }
        )?;
        for problem in &self.0 {
            writeln!(f, "  {}: {}", problem.path, problem.message)?;
        }
        if self.0.iter().any(|problem| problem.missing) {
            write!(
                f,
                "supply the missing answers in a file with --answers FILE (or --answers - for \
                 standard input; `mcp-oauth-new --example-answers` prints a complete one), \
                 or run in a terminal to be asked for them"
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}
