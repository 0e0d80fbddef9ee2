//! `inspect_request` (Shift-Tab in a notebook): a short documentation text
//! for the name under the cursor. Every lookup goes through `doc`, the one
//! place that knows where documentation comes from: optimizers are described
//! from their live defaults (what `optim::build` fills in, so the text never
//! disagrees with what runs), Minuit's algorithms from the option table the
//! REPL completes, built-ins and constants from the builtin registry
//! (`crate::builtins`, shared with the REPL's `:help`), keywords from the
//! short texts below.

use crate::optim::{self, ParamLayout};
use crate::repl::{option_names, KEYWORDS};
use serde_json::{json, Value};

/// One-line descriptions of the statements' keywords.
const KEYWORD_DOCS: &[(&str, &str)] = &[
    ("param", "param x = EXPR [step S] [in [LO, HI]] [fixed];  declares a parameter"),
    ("let", "let NAME = EXPR;  names an expression, re-evaluated as parameters change"),
    ("fn", "fn NAME(A, B) = EXPR;  defines a function"),
    ("minimize", "minimize EXPR [from x = E] [with OPT(ARGS)] [for N steps];  without `with`, MIGRAD"),
    ("maximize", "maximize EXPR ...;  as minimize, maximizing (torch's maximize=True)"),
    ("print", "print EXPR, ...;  prints values"),
    ("expect", "expect COND [\"message\"];  or  expect A == B within TOL;  a check"),
    ("seed", "seed N;  seeds the random generator"),
    ("hesse", "hesse;  HESSE errors at the minimum of the last Minuit minimization"),
    ("minos", "minos [x, ...] [cl=C];  MINOS errors (default: every free parameter)"),
    ("plot", "plot contour EXPR over x in [a, b], y in [c, d] [with path] [to \"f.svg\"];  plot loss;  plot E over t in [a, b];  in a notebook, without `to` the plot is shown inline only"),
];

/// What Minuit's algorithms do, before their options.
const MINUIT_DOCS: &[(&str, &str)] = &[
    (
        "migrad",
        "Minuit2's variable-metric minimizer; the EDM goal is 0.002 * tol * errordef",
    ),
    ("simplex", "Minuit2's simplex (Nelder-Mead) minimizer"),
    (
        "scan",
        "a grid over the limits of every free parameter (each needs limits)",
    ),
];

/// The documentation of `name`: a built-in, optimizer, Minuit algorithm,
/// constant or keyword. `None` for anything else.
pub fn doc(name: &str) -> Option<String> {
    if optim::is_optimizer(name) {
        let built = optim::build(name, &[], &ParamLayout::scalars(1))?.ok()?;
        let opts: Vec<String> = built
            .options
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        return Some(format!(
            "{name}({})\n\ntorch.optim's {name}, with torch's option names and defaults; one step is one optimizer.step()",
            opts.join(", ")
        ));
    }
    if let Some((_, what)) = MINUIT_DOCS.iter().find(|(n, _)| *n == name) {
        let opts = option_names(name).unwrap_or_default();
        return Some(format!("{name}({})\n\n{what}", opts.join(", ")));
    }
    if let Some(d) = crate::builtins::doc(name) {
        return Some(d.to_string());
    }
    if let Some((_, d)) = KEYWORD_DOCS.iter().find(|(n, _)| *n == name) {
        return Some(d.to_string());
    }
    if KEYWORDS.contains(&name) {
        return Some(format!("{name}: a keyword of the language"));
    }
    None
}

/// The name around byte `pos` of `code` (a cursor just after it counts).
fn word_at(code: &str, pos: usize) -> &str {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let start = code[..pos]
        .char_indices()
        .rev()
        .find(|(_, c)| !is_word(*c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let end = code[pos..]
        .char_indices()
        .find(|(_, c)| !is_word(*c))
        .map_or(code.len(), |(i, _)| pos + i);
    &code[start..end]
}

/// The `inspect_reply` for the cursor at code point `cursor` of `code`.
/// Inside a call's arguments (`adam(lr=|`), the called name is documented.
pub fn inspect(code: &str, cursor: usize) -> Value {
    let pos = code
        .char_indices()
        .nth(cursor)
        .map_or(code.len(), |(i, _)| i);
    let mut found = doc(word_at(code, pos));
    if found.is_none() {
        // The innermost open call before the cursor.
        let mut depth = 0i32;
        for (i, c) in code[..pos].char_indices().rev() {
            match c {
                ')' => depth += 1,
                '(' if depth > 0 => depth -= 1,
                '(' => {
                    found = doc(word_at(code, i));
                    break;
                }
                _ => {}
            }
        }
    }
    match found {
        Some(text) => {
            json!({"status": "ok", "found": true, "data": {"text/plain": text}, "metadata": {}})
        }
        None => json!({"status": "ok", "found": false, "data": {}, "metadata": {}}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optimizers_are_documented_with_their_live_defaults() {
        let d = doc("adam").unwrap();
        assert!(
            d.starts_with("adam(lr=0.001, betas=(0.9, 0.999), eps="),
            "{d}"
        );
        assert!(doc("migrad").unwrap().starts_with("migrad(tol, strategy"));
    }

    #[test]
    fn every_builtin_and_optimizer_has_a_doc() {
        for b in crate::builtins::BUILTINS {
            assert!(doc(b.name).is_some(), "no doc for {}", b.name);
        }
        for name in optim::NAMES {
            assert!(doc(name).is_some(), "no doc for {name}");
        }
        assert!(doc("no_such_thing").is_none());
    }

    #[test]
    fn the_cursor_picks_the_word_or_the_call_it_is_in() {
        let r = inspect("print sin(x)", 8);
        assert_eq!(r["found"], true);
        assert!(r["data"]["text/plain"]
            .as_str()
            .unwrap()
            .starts_with("sin(x)"));
        let r = inspect("minimize x^2 with sgd(lr=0.1, ", 30);
        assert!(r["data"]["text/plain"]
            .as_str()
            .unwrap()
            .starts_with("sgd(lr="));
        assert_eq!(inspect("print zz", 8)["found"], false);
    }
}
