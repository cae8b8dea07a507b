//! The two ways a [`Report`] is shown: a table for people, JSON for scripts.

use console::{Style, style};
use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use super::{Check, Report, Status};

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            // In capitals, so a failure stands out without colour too.
            Status::Fail => "FAIL",
            Status::Skip => "skip",
        }
    }

    fn style(self) -> Style {
        match self {
            Status::Pass => Style::new().green(),
            Status::Warn => Style::new().yellow(),
            Status::Fail => Style::new().red().bold(),
            Status::Skip => Style::new().dim(),
        }
    }
}

/// `id`, `title`, `status`, `reason`: the title comes from the id, so a
/// check carries only the id.
impl Serialize for Check {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut check = serializer.serialize_struct("Check", 4)?;
        check.serialize_field("id", self.id.as_str())?;
        check.serialize_field("title", self.id.title())?;
        check.serialize_field("status", &self.status)?;
        check.serialize_field("reason", &self.reason)?;
        check.end()
    }
}

/// One row per check (status, id, reason) and a closing count. Styled only
/// where `console` says standard output takes colours (not with `NO_COLOR`,
/// not into a pipe).
pub fn table(report: &Report) -> String {
    let width = report
        .checks
        .iter()
        .map(|c| c.id.as_str().len())
        .max()
        .unwrap_or(0);
    let mut out = format!("{} {}\n\n", style("Checking").bold(), report.url);
    for check in &report.checks {
        out.push_str(&format!(
            "  {}  {:<width$}  {}\n",
            check.status.style().apply_to(check.status.label()),
            check.id.as_str(),
            check.reason
        ));
    }
    let failed = report.count(Status::Fail);
    let summary = format!(
        "{} pass, {} warn, {failed} fail, {} skip",
        report.count(Status::Pass),
        report.count(Status::Warn),
        report.count(Status::Skip)
    );
    let verdict = if failed == 0 {
        style("ok:").green().bold()
    } else {
        style("failing:").red().bold()
    };
    out.push_str(&format!("\n{verdict} {summary}\n"));
    out
}

/// The report as one JSON document: `url`, `ok` (nothing failed), `counts`
/// and `checks` (`id`, `title`, `status`, `reason`), in that order.
pub fn json(report: &Report) -> String {
    #[derive(Serialize)]
    struct Counts {
        pass: usize,
        warn: usize,
        fail: usize,
        skip: usize,
    }
    #[derive(Serialize)]
    struct Document<'a> {
        url: &'a str,
        ok: bool,
        counts: Counts,
        checks: &'a [Check],
    }
    let document = Document {
        url: &report.url,
        ok: report.count(Status::Fail) == 0,
        counts: Counts {
            pass: report.count(Status::Pass),
            warn: report.count(Status::Warn),
            fail: report.count(Status::Fail),
            skip: report.count(Status::Skip),
        },
        checks: &report.checks,
    };
    serde_json::to_string_pretty(&document).expect("a report is plain JSON data")
}
