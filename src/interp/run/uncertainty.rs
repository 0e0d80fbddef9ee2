//! The statements that continue from the last Minuit minimum: `hesse`,
//! `minos [names] [cl=C]`, `contour X, Y [cl=C] [points=N]` and
//! `profile X [points=N] [bound=K]` (iminuit's `hesse`, `minos`,
//! `mncontour` and `mnprofile`). Each prints what iminuit's `print(m)`
//! shows at that point (or the contour's and profile's points) and adds a
//! JSON record. MINOS, contours and profiles refuse an invalid minimum, as
//! iminuit does, with the reason.

use super::minuit::{errors_record, say_report, MinuitRun};
use super::{opt_diag, option_args, OptionError};
use crate::diagnostics::{Code, Diag, IntoDiagnostic, Span};
use crate::interp::report::num_json;
use crate::interp::Session;
use crate::minuit::{self, level, FunctionMinimum};
use crate::optim::OptReader;
use crate::syntax::ast::{Arg, Ident, Stmt};
use crate::tensor::fmt_num;
use serde_json::{json, Map, Value};
use std::io::Write;

fn no_minimum(span: &Span, what: &'static str) -> Diag {
    UncertaintyError::NoMinimum {
        what,
        span: span.clone(),
    }
    .into()
}

/// Why a minimum is not valid, in the words of iminuit's report; None for a
/// valid one.
pub fn invalid_reason(min: &FunctionMinimum) -> Option<String> {
    if min.valid {
        return None;
    }
    let mut why = Vec::new();
    if min.hesse_failed {
        why.push("Hesse FAILED");
    }
    if min.has_covariance && !min.has_posdef_covar && !min.has_made_posdef_covar {
        why.push("covariance NOT pos. def.");
    }
    if min.saddle {
        why.push("a saddle point: the Hessian has a negative eigenvalue");
    }
    if min.above_max_edm {
        why.push("EDM ABOVE threshold (goal x 10)");
    }
    if min.call_limit {
        why.push("ABOVE call limit");
    }
    if !min.fval.is_finite() {
        why.push("FCN is not finite");
    }
    if why.is_empty() {
        why.push("MIGRAD did not converge");
    }
    Some(why.join(", "))
}

/// The last fit, refusing an invalid minimum for `what`.
fn valid_run<'a>(
    s: &'a mut Session,
    st: &Stmt,
    what: &'static str,
) -> Result<&'a mut MinuitRun, Diag> {
    let Some(run) = s.last_minuit.as_mut() else {
        return Err(no_minimum(&st.span, what));
    };
    if let Some(why) = invalid_reason(&run.min) {
        return Err(UncertaintyError::InvalidMinimum {
            what,
            why,
            span: st.span.clone(),
        }
        .into());
    }
    Ok(run)
}

/// The index of parameter `n` of the last fit, free.
fn free_param(run: &MinuitRun, n: &Ident, what: &'static str) -> Result<usize, Diag> {
    let (name, span) = (n.name.clone(), n.span.clone());
    match run.specs.iter().position(|p| p.name == n.name) {
        Some(k) if run.specs[k].fixed => Err(UncertaintyError::Fixed { name, what, span }.into()),
        Some(k) => Ok(k),
        None => {
            let known: Vec<String> = run.specs.iter().map(|p| p.name.clone()).collect();
            Err(UncertaintyError::NotInFit {
                suggestion: crate::interp::names::suggest(&name, known.iter().map(String::as_str)),
                name,
                known,
                span,
            }
            .into())
        }
    }
}

/// `hesse;`
pub fn hesse(s: &mut Session, st: &Stmt, line: usize) -> Result<(), Diag> {
    let json = s.opts.json;
    let Some(run) = s.last_minuit.as_mut() else {
        return Err(no_minimum(&st.span, "hesse"));
    };
    run.fcn.arm();
    let (min, nfcn, ngrad) = minuit::hesse(&mut run.fcn, &run.specs, &run.min, run.numeric);
    run.fcn.record.clear();
    if let Some(n) = run.fcn.interrupted() {
        super::stopped::uncertainty_interrupted(s, "hesse", n, line);
        return Ok(());
    }
    run.min = min;
    run.nfcn_total += nfcn;
    run.ngrad_total += ngrad;
    // the report of a large fit is big: only built when shown
    let report = (!json).then(|| run.report());
    let mut rec = Map::new();
    rec.insert("kind".into(), json!("hesse"));
    rec.insert("line".into(), json!(line));
    rec.insert("nfcn".into(), json!(nfcn));
    rec.insert("ngrad".into(), json!(ngrad));
    errors_record(&run.specs, &run.min).insert_into(&mut rec);
    rec.insert(
        "valid".into(),
        json!(run.min.valid && run.min.covariance.is_some()),
    );
    let updates: Vec<(usize, f64)> = run
        .index
        .iter()
        .enumerate()
        .filter(|(k, _)| !run.specs[*k].fixed)
        .map(|(k, &i)| (i, run.min.errors[k]))
        .collect();
    for (i, e) in updates {
        if s.params[i].value.is_scalar() {
            s.params[i].error = Some(e);
        }
    }
    say_report(s, "hesse\n".to_string(), report.as_ref());
    s.records.push(Value::Object(rec));
    Ok(())
}

/// Reads a statement's `name=value` options.
fn reader<'a>(
    what: &'static str,
    args: &'a [crate::optim::OptArg],
    span: &Span,
) -> Result<OptReader<'a>, Diag> {
    OptReader::new(what, args).map_err(|e| opt_diag(e, span))
}

/// The `points` option: `default`, from `least` to 100000.
fn read_points(r: &mut OptReader, default: i64, least: i64, span: &Span) -> Result<usize, Diag> {
    let rd = |e| opt_diag(e, span);
    let n = r.int("points", default).map_err(rd)?;
    let allowed = format!("points must be >= {least}");
    r.check("points", (least..=100_000).contains(&n), n, &allowed)
        .map_err(rd)?;
    Ok(n as usize)
}

/// A confidence level option: > 0.
fn read_cl(r: &mut OptReader, span: &Span) -> Result<Option<f64>, Diag> {
    let rd = |e| opt_diag(e, span);
    let cl = r.opt_num("cl", None).map_err(rd)?;
    if let Some(c) = cl {
        r.check(
            "cl",
            c > 0.0 && c.is_finite(),
            c,
            "cl must be > 0 (below 1 a probability, from 1 on a number of standard deviations)",
        )
        .map_err(rd)?;
    }
    Ok(cl)
}

/// `minos [names] [cl=C];`
pub fn minos(
    s: &mut Session,
    names: &[Ident],
    opts: &[Arg],
    st: &Stmt,
    line: usize,
) -> Result<(), Diag> {
    let args = option_args(s, opts)?;
    let mut r = reader("minos", &args, &st.span)?;
    let cl = read_cl(&mut r, &st.span)?;
    r.finish().map_err(|e| opt_diag(e, &st.span))?;
    let json = s.opts.json;
    let run = valid_run(s, st, "MINOS")?;
    let mut targets = Vec::new();
    if names.is_empty() {
        targets.extend((0..run.specs.len()).filter(|&k| !run.specs[k].fixed));
    }
    for n in names {
        let k = free_param(run, n, "MINOS")?;
        if targets.contains(&k) {
            return Err(UncertaintyError::NamedTwice {
                name: n.name.clone(),
                span: n.span.clone(),
            }
            .into());
        }
        targets.push(k);
    }
    let up = run.min.errordef * level::cl_factor(cl.unwrap_or(1.0), 1);
    let mut total = 0;
    let mut errors = Map::new();
    let mut valid = Map::new();
    run.fcn.arm();
    for k in targets {
        let tol = run.min.internal.tol;
        let e =
            minuit::minos::minos_at(&mut run.fcn, &run.specs, &run.min, k, run.numeric, up, tol);
        run.fcn.record.clear();
        if let Some(n) = run.fcn.interrupted() {
            // the errors of the parameters done before stay
            run.nfcn_total += total + n;
            super::stopped::uncertainty_interrupted(s, "minos", n, line);
            return Ok(());
        }
        total += e.nfcn;
        errors.insert(
            run.specs[k].name.clone(),
            json!([num_json(e.lower), num_json(e.upper)]),
        );
        valid.insert(run.specs[k].name.clone(), json!(e.is_valid()));
        run.minos.retain(|(n, _)| *n != run.specs[k].name);
        run.minos.push((run.specs[k].name.clone(), e));
    }
    run.nfcn_total += total;
    // the report of a large fit is big: only built when shown
    let report = (!json).then(|| run.report());
    say_report(s, "minos\n".to_string(), report.as_ref());
    s.records.push(
        json!({"kind": "minos", "line": line, "nfcn": total, "cl": num_json(cl.unwrap_or(1.0)),
        "errors": errors, "valid": valid}),
    );
    Ok(())
}

/// The contour's options: `cl` (default 0.68) and `points` (default 100, at
/// least 4).
fn contour_opts(s: &Session, opts: &[Arg], span: &Span) -> Result<(f64, usize), Diag> {
    let args = option_args(s, opts)?;
    let mut r = reader("contour", &args, span)?;
    let cl = read_cl(&mut r, span)?.unwrap_or(0.68);
    let n = read_points(&mut r, 100, 4, span)?;
    r.finish().map_err(|e| opt_diag(e, span))?;
    Ok((cl, n))
}

/// A MINOS contour of the last fit, as `contour` and `plot mncontour` use it.
pub fn compute_contour(
    s: &mut Session,
    x: &Ident,
    y: &Ident,
    cl: f64,
    points: usize,
    st: &Stmt,
) -> Result<(minuit::contours::Contour, [String; 2]), Diag> {
    let run = valid_run(s, st, "a contour")?;
    let px = free_param(run, x, "a contour")?;
    let py = free_param(run, y, "a contour")?;
    if px == py {
        return Err(UncertaintyError::SameParameter {
            name: y.name.clone(),
            span: y.span.clone(),
        }
        .into());
    }
    let up = run.min.errordef * level::cl_factor(cl, 2);
    run.fcn.arm();
    let c = minuit::contours::contour(
        &mut run.fcn,
        &run.specs,
        &run.min,
        px,
        py,
        points,
        run.numeric,
        up,
    );
    run.fcn.record.clear();
    if let Some(n) = run.fcn.interrupted() {
        return Err(interrupted("the contour", n, &st.span));
    }
    run.nfcn_total += c.nfcn;
    let names = [run.specs[px].name.clone(), run.specs[py].name.clone()];
    Ok((c, names))
}

/// `contour X, Y [cl=C] [points=N];`
pub fn contour(
    s: &mut Session,
    x: &Ident,
    y: &Ident,
    opts: &[Arg],
    st: &Stmt,
    line: usize,
) -> Result<(), Diag> {
    let (cl, points) = contour_opts(s, opts, &st.span)?;
    let (c, names) = compute_contour(s, x, y, cl, points, st)?;
    let mut text = format!("contour {}, {} (cl={})", names[0], names[1], fmt_num(cl));
    if let Some(why) = &c.mncontours_failure {
        text.push_str(&format!(
            "\nMnContours: {why}; the points below are crossings along rays from the minimum"
        ));
    }
    if !c.valid {
        // not an error: the points found are reported, flagged `valid: false`
        let _ = writeln!(
            s.err,
            "warning: the contour of {} and {} is incomplete: some points could not be found",
            names[0], names[1]
        );
    }
    for (k, (a, b)) in c.points.iter().enumerate() {
        text.push_str(&format!("\n{k:>4}  {}  {}", fmt_num(*a), fmt_num(*b)));
    }
    s.say(&text);
    let pts: Vec<Value> = c
        .points
        .iter()
        .map(|(a, b)| json!([num_json(*a), num_json(*b)]))
        .collect();
    s.records.push(
        json!({"kind": "contour", "line": line, "params": names, "cl": num_json(cl),
        "points": pts, "nfcn": c.nfcn, "valid": c.valid}),
    );
    Ok(())
}

/// The profile's options: `points` (default 30, at least 2) and `bound`
/// (default 2, > 0).
fn profile_opts(s: &Session, opts: &[Arg], span: &Span) -> Result<(usize, f64), Diag> {
    let args = option_args(s, opts)?;
    let mut r = reader("profile", &args, span)?;
    let rd = |e| opt_diag(e, span);
    let n = read_points(&mut r, 30, 2, span)?;
    let bound = r.num("bound", 2.0).map_err(rd)?;
    r.check(
        "bound",
        bound > 0.0 && bound.is_finite(),
        bound,
        "bound must be > 0",
    )
    .map_err(rd)?;
    r.finish().map_err(rd)?;
    Ok((n, bound))
}

/// The profile of the last fit and the profiled parameter's name.
pub fn compute_profile(
    s: &mut Session,
    x: &Ident,
    opts: &[Arg],
    st: &Stmt,
) -> Result<(minuit::profile::Profile, String), Diag> {
    let (points, bound) = profile_opts(s, opts, &st.span)?;
    let run = valid_run(s, st, "a profile")?;
    let k = free_param(run, x, "a profile")?;
    let grid = minuit::profile::grid(run.min.values[k], run.min.errors[k], points, bound);
    run.fcn.arm();
    let p = minuit::profile::profile(&mut run.fcn, &run.specs, &run.min, k, &grid, run.numeric);
    run.fcn.record.clear();
    if let Some(n) = run.fcn.interrupted() {
        return Err(interrupted("the profile", n, &st.span));
    }
    Ok((p, run.specs[k].name.clone()))
}

/// `profile X [points=N] [bound=K];`
pub fn profile(
    s: &mut Session,
    x: &Ident,
    opts: &[Arg],
    st: &Stmt,
    line: usize,
) -> Result<(), Diag> {
    let (p, name) = compute_profile(s, x, opts, st)?;
    let mut text = format!("profile {name}");
    for ((v, f), ok) in p.values.iter().zip(&p.fcn).zip(&p.valid) {
        text.push_str(&format!(
            "\n{:>14}  {}{}",
            fmt_num(*v),
            fmt_num(*f),
            if *ok { "" } else { "  (fit not valid)" }
        ));
    }
    s.say(&text);
    let vals: Vec<Value> = p.values.iter().map(|v| num_json(*v)).collect();
    let fcn: Vec<Value> = p.fcn.iter().map(|v| num_json(*v)).collect();
    s.records.push(
        json!({"kind": "profile", "line": line, "param": name, "values": vals,
        "fcn": fcn, "valid": p.valid, "nfcn": p.nfcn}),
    );
    Ok(())
}

/// `plot mncontour X, Y [cl=[C, ...]] [points=N]`: one contour per level
/// (default 1, 2 and 3 standard deviations, as iminuit's `draw_mncontour`)
/// and the minimum.
pub fn mncontour_figure(
    s: &mut Session,
    x: &Ident,
    y: &Ident,
    opts: &[Arg],
    st: &Stmt,
) -> Result<crate::plot::Plot, Diag> {
    // `cl` may be a list, so it is read apart from the number options
    let (cls, rest): (Vec<&Arg>, Vec<&Arg>) = opts
        .iter()
        .partition(|a| a.name.as_ref().is_some_and(|n| n.name == "cl"));
    let mut levels = vec![1.0, 2.0, 3.0];
    if let Some(a) = cls.first() {
        let t = s.const_value(&a.value, "a confidence level")?;
        if t.data.is_empty() || t.data.iter().any(|&c| !(c > 0.0 && c.is_finite())) {
            return Err(OptionError::Levels {
                span: a.span.clone(),
            }
            .into());
        }
        levels = t.data.clone();
    }
    let rest: Vec<Arg> = rest.into_iter().cloned().collect();
    let args = option_args(s, &rest)?;
    let mut r = reader("mncontour", &args, &st.span)?;
    let n = read_points(&mut r, 100, 4, &st.span)?;
    r.finish().map_err(|e| opt_diag(e, &st.span))?;
    let mut contours = Vec::with_capacity(levels.len());
    let mut names = [String::new(), String::new()];
    for &cl in &levels {
        let (c, nm) = compute_contour(s, x, y, cl, n, st)?;
        if !c.valid {
            let _ = writeln!(
                s.err,
                "warning: the {} contour is incomplete",
                crate::plot::cl_label(cl)
            );
        }
        contours.push((crate::plot::cl_label(cl), c.points));
        names = nm;
    }
    let run = s
        .last_minuit
        .as_ref()
        .ok_or_else(|| no_minimum(&st.span, "a contour"))?;
    let at = |n: &str| {
        run.specs
            .iter()
            .position(|p| p.name == n)
            .map_or(f64::NAN, |k| run.min.values[k])
    };
    let minimum = (at(&names[0]), at(&names[1]));
    Ok(crate::plot::Plot::Lines(crate::plot::mncontour_plot(
        &contours, minimum, &names[0], &names[1],
    )))
}

/// `plot profile X [points=N] [bound=K]`: the profile, the minimum and the
/// MINOS interval when MINOS ran on X (iminuit's `draw_mnprofile`).
pub fn profile_figure(
    s: &mut Session,
    x: &Ident,
    opts: &[Arg],
    st: &Stmt,
) -> Result<crate::plot::Plot, Diag> {
    let (p, name) = compute_profile(s, x, opts, st)?;
    let run = s
        .last_minuit
        .as_ref()
        .ok_or_else(|| no_minimum(&st.span, "a profile"))?;
    let k = run.specs.iter().position(|q| q.name == name).unwrap_or(0);
    let me = run
        .minos
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, e)| (e.lower, e.upper));
    Ok(crate::plot::Plot::Lines(crate::plot::profile_plot(
        &p.values,
        &p.fcn,
        &name,
        run.min.values[k],
        me,
    )))
}

fn interrupted(what: &'static str, calls: usize, span: &Span) -> Diag {
    UncertaintyError::Interrupted {
        what,
        calls,
        span: span.clone(),
    }
    .into()
}

/// A mistake in a statement that continues from the last Minuit minimum
/// (E0403), or one stopped before it had a result (E0407). `what` names the
/// statement: "hesse", "MINOS", "a contour", "a profile".
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum UncertaintyError {
    #[error("{what} needs a Minuit minimum")]
    NoMinimum { what: &'static str, span: Span },
    /// `why` is iminuit's reason, from `invalid_reason`.
    #[error("{what} needs a valid minimum; the last fit's is not valid")]
    InvalidMinimum {
        what: &'static str,
        why: String,
        span: Span,
    },
    #[error("`{name}` is fixed")]
    Fixed {
        name: String,
        what: &'static str,
        span: Span,
    },
    /// `known` are the fit's parameters.
    #[error("`{name}` is not a parameter of the last fit")]
    NotInFit {
        name: String,
        suggestion: Option<String>,
        known: Vec<String>,
        span: Span,
    },
    #[error("`{name}` is named twice")]
    NamedTwice { name: String, span: Span },
    /// `contour x, x`.
    #[error("a contour needs two different parameters")]
    SameParameter { name: String, span: Span },
    /// A contour or profile stopped by Ctrl-C has no result to show.
    #[error("{what} was interrupted after {calls} calls")]
    Interrupted {
        what: &'static str,
        calls: usize,
        span: Span,
    },
}

impl IntoDiagnostic for UncertaintyError {
    fn into_diagnostic(self) -> Diag {
        let code = match self {
            UncertaintyError::Interrupted { .. } => Code::E0407,
            _ => Code::E0403,
        };
        let d = Diag::error(code, self.to_string());
        match self {
            UncertaintyError::NoMinimum { span, .. } => d
                .at(span, "no Minuit minimization ran before this")
                .note("help: run `minimize ... with migrad;` first"),
            UncertaintyError::InvalidMinimum { why, span, .. } => d
                .at(span, why)
                .note("help: start closer to the minimum, raise `ncall`, or try `strategy=2`"),
            UncertaintyError::Fixed { what, span, .. } => {
                d.at(span, format!("{what} needs a free parameter"))
            }
            UncertaintyError::NotInFit {
                suggestion,
                known,
                span,
                ..
            } => {
                let mut d = d.at(span, "unknown here");
                if let Some(sg) = suggestion {
                    d = d.note(format!("help: did you mean `{sg}`?"));
                }
                d.note(format!("the fit's parameters: {}", known.join(", ")))
            }
            UncertaintyError::NamedTwice { span, .. } => d.at(span, "again here"),
            UncertaintyError::SameParameter { name, span } => d.at(span, format!("`{name}` again")),
            UncertaintyError::Interrupted { span, .. } => d
                .at(span, "stopped by Ctrl-C")
                .note("nothing is shown or drawn; the minimum is unchanged"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::testutil::first_error;

    #[test]
    fn the_statements_after_a_fit_need_a_minuit_minimum() {
        let src = "param x = 1; minimize x^2 with adam for 3 steps; hesse;";
        let d = first_error(src);
        assert_eq!(
            (d.code, &src[d.labels[0].0.clone()]),
            (Code::E0403, "hesse;")
        );
        assert_eq!(d.message, "hesse needs a Minuit minimum");
    }

    #[test]
    fn names_are_checked_against_the_fit() {
        let src = "param x = 1; param y = 2 fixed; minimize x^2 + y with migrad; minos y;";
        let d = first_error(src);
        assert_eq!(
            (d.message.as_str(), &src[d.labels[0].0.clone()]),
            ("`y` is fixed", "y")
        );
        assert_eq!(d.labels[0].1, "MINOS needs a free parameter");
        let src =
            "param alpha = 1; param y = 2; minimize alpha^2 + y^2 with migrad; contour alpah, y;";
        let d = first_error(src);
        assert_eq!(d.message, "`alpah` is not a parameter of the last fit");
        assert_eq!(
            d.notes,
            [
                "help: did you mean `alpha`?",
                "the fit's parameters: alpha, y"
            ]
        );
        let src = "param x = 1; param y = 2; minimize x^2 + y^2 with migrad; contour x, x;";
        let d = first_error(src);
        assert_eq!(d.message, "a contour needs two different parameters");
        assert_eq!(
            d.labels[0],
            (
                src.rfind('x').unwrap()..src.len() - 1,
                "`x` again".to_string()
            )
        );
    }

    #[test]
    fn an_interrupted_contour_is_e0407() {
        let e = UncertaintyError::Interrupted {
            what: "the contour",
            calls: 12,
            span: 4..9,
        };
        let d = e.into_diagnostic();
        assert_eq!((d.code, d.labels[0].0.clone()), (Code::E0407, 4..9));
        assert_eq!(d.message, "the contour was interrupted after 12 calls");
    }
}
