//! The builtin registry as a user meets it: one wording for a call's
//! mistakes whichever statement finds them (a `let` is checked before it
//! runs, a `print` when it is lowered), `dim` accepted for `axis`, unknown
//! options named with what is allowed, and inlined function calls shared so
//! that nesting costs linear time.

mod common;

use common::{run_args, run_text, TempScript};
use std::time::{Duration, Instant};

/// The first diagnostic of a failing script: (stderr, exit code).
fn fails(script: &str) -> (String, i32) {
    let (_, err, code) = run_text(script);
    (err, code)
}

/// The message, label and help lines of a diagnostic, without the
/// file, the source line and the column the underline starts at.
fn gist(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .map(|l| l.trim_start_matches([' ', '│']).to_string())
        .filter(|l| l.starts_with("error") || l.starts_with('^') || l.starts_with("= "))
        .collect()
}

#[test]
fn arity_mistakes_are_worded_the_same_in_let_and_print() {
    let (a, ca) = fails("let a = sin(1, 2);\n");
    let (b, cb) = fails("print sin(1, 2);\n");
    assert_eq!((ca, cb), (1, 1));
    for e in [&a, &b] {
        assert!(
            e.contains("error[E0203]: `sin` takes 1 argument, but 2 were given"),
            "{e}"
        );
        assert!(e.contains("^^^^^^^^^ 2 arguments"), "{e}");
    }
    assert_eq!(gist(&a), gist(&b));
}

#[test]
fn unknown_functions_get_the_same_help_in_let_and_print() {
    let (a, _) = fails("let a = qqq(1);\n");
    let (b, _) = fails("print qqq(1);\n");
    for e in [&a, &b] {
        assert!(e.contains("error[E0200]: unknown function `qqq`"), "{e}");
        assert!(
            e.contains("help: define it with `fn NAME(ARGS) = EXPR;`"),
            "{e}"
        );
    }
    let (c, _) = fails("print sqrtt(4);\n");
    assert!(c.contains("help: did you mean `sqrt`?"), "{c}");
}

#[test]
fn user_function_arity_is_worded_like_a_builtin_s() {
    for s in [
        "fn f(a, b) = a + b;\nprint f(1);\n",
        "fn f(a, b) = a + b;\nlet y = f(1);\n",
    ] {
        let (e, code) = fails(s);
        assert_eq!(code, 1);
        assert!(
            e.contains("`f` takes 2 arguments, but 1 was given") && e.contains("1 argument"),
            "{e}"
        );
        assert!(e.contains(":2:"), "{e}");
    }
}

#[test]
fn unknown_options_name_what_is_allowed() {
    let (e, _) = fails("print sum([1, 2], axs=0);\n");
    assert!(e.contains("`sum` has no argument `axs`"), "{e}");
    assert!(e.contains("did you mean `axis`?"), "{e}");
    assert!(e.contains("`sum` takes axis=none"), "{e}");
    let (e, _) = fails("print sin(1, axis=0);\n");
    assert!(e.contains("`sin` takes no named arguments"), "{e}");
    let (e, _) = fails("print sum([1, 2], axis=0, dim=0);\n");
    assert!(e.contains("`dim` is given twice"), "{e}");
    let (e, _) = fails("print max([1, 2], [3, 4], axis=0);\n");
    assert!(e.contains("`max` of two values takes no axis"), "{e}");
}

#[test]
fn dim_is_axis() {
    let (out, err, code) = run_text("print sum([[1, 2], [3, 4]], dim=-1);\n");
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "[3.0, 7.0]");
}

#[test]
fn nested_function_calls_are_inlined_once() {
    // f26 doubles f25 and so on: 2^26 calls if each were inlined anew.
    let mut s = String::from("param x = 1;\nfn f0(a) = a + 1;\n");
    for k in 1..=26 {
        s.push_str(&format!("fn f{k}(a) = f{}(a) + f{}(a);\n", k - 1, k - 1));
    }
    s.push_str("print f26(x), grad(f26(x), x);\n");
    let file = TempScript::new(&s);
    let t = Instant::now();
    let out = run_args(&["run", file.path_str()], None);
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert_eq!(out.stdout.trim(), "134217728.0 67108864.0");
}

#[test]
fn repl_help_knows_every_builtin_through_the_registry() {
    let out = run_args(&["repl"], Some(b":help cross_entropy\n:help\n"));
    assert!(
        out.stdout.contains(
            "cross_entropy(input, target, weight=none, reduction=\"mean\", label_smoothing=0)"
        ),
        "{}",
        out.describe()
    );
    for name in [
        "erfinv",
        "log_softmax",
        "binary_cross_entropy_with_logits",
        "one_hot",
    ] {
        assert!(out.stdout.contains(name), "{name}: {}", out.describe());
    }
    let bad = run_args(&["repl"], Some(b":help nosuch\n"));
    assert!(
        bad.stderr
            .contains("no built-in function or constant `nosuch`"),
        "{}",
        bad.describe()
    );
}
