//! Runs that did not end the way their statement says: stopped by Ctrl-C
//! or by a non-finite value. They keep the best point they saw, print the
//! report of what ran, and leave the REPL's `:save` a statement that
//! reproduces the state they reached (`Replay`), since re-running the
//! statement as written would not.

use super::minuit::GraphFcn;
use super::{params_record, RunError};
use crate::diagnostics::{Diag, Span};
use crate::interp::report::MinuitFields;
use crate::interp::report::{optimizer_text, ErrorsRecord, MinimizeRecord, MinimizerFields};
use crate::interp::Session;
use crate::minuit::ParamSpec;
use crate::optim::OptValue;
use crate::syntax::ast::MinimizeStmt;
use crate::tensor::{fmt_num, Tensor};

/// What `:save` writes for a statement instead of its text.
#[derive(Clone, Debug, PartialEq)]
pub enum Replay {
    /// The statement with the source at this span replaced.
    Edit(Span, String),
    /// The statement with this text added before its `;`.
    Append(String),
    /// Other statements altogether.
    Text(String),
}

impl Replay {
    /// The statement text `text` (whose source starts at `start`) as it
    /// replays.
    pub fn apply(&self, text: &str, start: usize) -> String {
        match self {
            Replay::Edit(span, new) => {
                let (a, b) = (span.start - start, span.end - start);
                match (text.get(..a), text.get(b..)) {
                    (Some(head), Some(tail)) => format!("{head}{new}{tail}"),
                    _ => text.to_string(),
                }
            }
            Replay::Append(more) => {
                let body = text.trim_end();
                let body = body.strip_suffix(';').unwrap_or(body).trim_end();
                format!("{body}{more};")
            }
            Replay::Text(t) => t.clone(),
        }
    }
}

/// A value as source text that reads back to the same numbers (shortest
/// round-trip digits, nested brackets, never summarized).
pub fn source_literal(t: &Tensor) -> String {
    fn rec(out: &mut String, shape: &[usize], data: &[f64]) {
        if shape.is_empty() {
            out.push_str(&fmt_num(data[0]));
            return;
        }
        let inner: usize = shape[1..].iter().product();
        out.push('[');
        for i in 0..shape[0] {
            if i > 0 {
                out.push_str(", ");
            }
            rec(out, &shape[1..], &data[i * inner..(i + 1) * inner]);
        }
        out.push(']');
    }
    let mut out = String::new();
    rec(&mut out, &t.shape, &t.data);
    out
}

/// The parameters `which` set to their current values, as statements
/// under a comment saying why.
pub fn values_replay(s: &Session, which: &[usize], why: &str) -> Replay {
    let mut text = format!("# {why}: the values it reached");
    for &i in which {
        let p = &s.params[i];
        text.push_str(&format!("\n{} = {};", p.name, source_literal(&p.value)));
    }
    Replay::Text(text)
}

/// How a Minuit run was cut short.
pub enum MinuitStop {
    /// Ctrl-C, after this many value calls.
    Interrupted(usize),
    /// The objective was not finite at the point the algorithm ended on.
    NonFinite(f64),
}

/// Everything the report of a stopped Minuit run needs.
pub struct StoppedFit<'a> {
    pub m: &'a MinimizeStmt,
    pub aname: &'static str,
    pub options: &'a [(&'static str, OptValue)],
    pub specs: &'a [ParamSpec],
    /// (session parameter, element) of each spec.
    pub elems: &'a [(usize, usize)],
    pub nfcn: usize,
    pub ngrad: usize,
    pub line: usize,
}

/// A Minuit run stopped by Ctrl-C or a non-finite value: the parameters go
/// to the best finite point seen, the report says what ran, the record is
/// kept; a non-finite stop then ends the statement with E0400.
pub fn minuit_stopped(
    s: &mut Session,
    f: StoppedFit<'_>,
    fcn: &GraphFcn,
    stop: MinuitStop,
) -> Result<(), Diag> {
    let best = fcn.best();
    if let Some((_, x)) = best {
        for (k, &(i, e)) in f.elems.iter().enumerate() {
            s.params[i].value.data[e] = x[k];
        }
    }
    let mut involved: Vec<usize> = f.elems.iter().map(|&(i, _)| i).collect();
    involved.dedup();
    for &i in &involved {
        s.params[i].error = None;
    }
    // no minimum to continue from (hesse, minos), and no path to draw
    s.last_minuit = None;
    s.last_path = None;
    let text = stopped_text(s, &f, &involved, best, &stop);
    s.say(&text);
    let mut json = stopped_record(s, &f, best).to_json();
    let verb = if f.m.maximize { "maximize" } else { "minimize" };
    let why = match stop {
        MinuitStop::Interrupted(_) => {
            json["interrupted"] = serde_json::json!(true);
            format!("{verb} with {} was interrupted", f.aname)
        }
        MinuitStop::NonFinite(_) => {
            json["stopped"] = serde_json::json!("nonfinite");
            format!("{verb} with {} stopped on a non-finite value", f.aname)
        }
    };
    s.records.push(json);
    s.replay = Some(values_replay(s, &involved, &why));
    match stop {
        MinuitStop::Interrupted(_) => Ok(()),
        MinuitStop::NonFinite(v) => Err(RunError::MinuitNonFinite {
            algorithm: f.aname,
            value: v,
            moved: best.is_some(),
            span: f.m.objective.span.clone(),
        }
        .into()),
    }
}

/// What a stopped fit prints: why it stopped, the best loss seen and the
/// parameters where they are left.
fn stopped_text(
    s: &Session,
    f: &StoppedFit<'_>,
    involved: &[usize],
    best: Option<(f64, &[f64])>,
    stop: &MinuitStop,
) -> String {
    let verb = if f.m.maximize { "maximize" } else { "minimize" };
    let what = match stop {
        MinuitStop::Interrupted(n) => format!("interrupted after {n} calls"),
        MinuitStop::NonFinite(v) => format!(
            "stopped after {} calls: the objective is {} at its last point",
            f.nfcn,
            fmt_num(*v)
        ),
    };
    let kept = match best {
        Some(_) => "kept the best point seen",
        None => "no finite value seen: the parameters are unchanged",
    };
    let mut text = format!(
        "{verb} with {}: {what} ({kept})",
        optimizer_text(f.aname, f.options)
    );
    if let Some((v, _)) = best {
        text.push_str(&format!("\n  loss {} at the best point", fmt_num(v)));
    }
    for &i in involved {
        text.push_str(&format!("\n  {} = {}", s.params[i].name, s.params[i].value));
    }
    text
}

/// The record of a stopped fit: the calls made, no minimum, no errors.
fn stopped_record(s: &Session, f: &StoppedFit<'_>, best: Option<(f64, &[f64])>) -> MinimizeRecord {
    let free: Vec<&ParamSpec> = f.specs.iter().filter(|p| !p.fixed).collect();
    MinimizeRecord {
        line: f.line,
        optimizer: f.aname.to_string(),
        options: f
            .options
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        maximize: f.m.maximize,
        loss: best.map_or(f64::NAN, |b| b.0),
        params: params_record(s),
        nfcn: f.nfcn,
        ngrad: f.ngrad,
        path: None,
        kind: MinimizerFields::Minuit(MinuitFields {
            edm: f64::NAN,
            edm_goal: f64::NAN,
            valid: false,
            accurate: false,
            at_limit: false,
            call_limit: false,
            above_max_edm: false,
            errors: ErrorsRecord {
                errors: Vec::new(),
                covariance: None,
                free: free.iter().map(|p| p.name.clone()).collect(),
            },
        }),
    }
}

/// HESSE or MINOS stopped by Ctrl-C: nothing of the fit changes (the
/// errors MINOS finished before stay); the statement says so.
pub fn uncertainty_interrupted(s: &mut Session, what: &str, calls: usize, line: usize) {
    s.say(&format!(
        "{what}: interrupted after {calls} calls (the minimum and its errors are unchanged)"
    ));
    s.records.push(
        serde_json::json!({"kind": what, "line": line, "nfcn": calls,
        "interrupted": true}),
    );
    s.replay = Some(Replay::Text(format!(
        "# {what} was interrupted: it changed nothing"
    )));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_literal_reads_back_every_digit() {
        let t = Tensor {
            shape: vec![2, 2],
            data: vec![0.1, -2.5, 1e-300, 1.0 / 3.0],
        };
        assert_eq!(
            source_literal(&t),
            format!("[[0.1, -2.5], [1e-300, {}]]", fmt_num(1.0 / 3.0))
        );
        // a big tensor is not summarized
        let big = Tensor {
            shape: vec![2000],
            data: vec![1.0; 2000],
        };
        assert!(!source_literal(&big).contains("..."));
    }

    #[test]
    fn replays_edit_append_or_replace_the_statement() {
        let text = "minimize x^2 with sgd(lr=0.1) for 100 steps;";
        // the source starts at 10: the span of `100` is 44..47
        let e = Replay::Edit(44..47, "7".into());
        assert_eq!(
            e.apply(text, 10),
            "minimize x^2 with sgd(lr=0.1) for 7 steps;"
        );
        let a = Replay::Append(" for 3 steps".into());
        assert_eq!(
            a.apply("minimize x^2 with sgd(lr=0.1) ;", 0),
            "minimize x^2 with sgd(lr=0.1) for 3 steps;"
        );
        assert_eq!(Replay::Text("x = 1;".into()).apply(text, 0), "x = 1;");
    }
}
