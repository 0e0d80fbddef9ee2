//! The REPL's `:` commands: parsing them (`Command: FromStr`, whose errors
//! are diagnostics like every other mistake), and the text they print
//! (`:help`, `:params`) or the file they write (`:save`). Running them
//! against the session is the backend's job (`super::Repl`).

use crate::builtins::CONSTANTS;
use crate::diagnostics::Diag;
use crate::interp::Session;
use crate::optim;
use crate::syntax::ast::StmtKind;
use crate::tensor::fmt_num;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The REPL's commands, with their one-line help.
pub const COMMANDS: &[(&str, &str)] = &[
    (":help", "this help"),
    (
        ":params",
        "a table of the parameters: value, limits, fixed, error",
    ),
    (":reset", "forget everything declared and done"),
    (":load FILE", "run a script into the session"),
    (
        ":save FILE",
        "write the session's statements as a runnable script",
    ),
    (":quit", "leave (so does Ctrl-D)"),
];

/// The Minuit minimizers and their options: Minuit's one table.
pub use crate::minuit::options::ALGORITHMS as MINUIT;

/// One `:` command, parsed.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Help,
    /// `:help NAME`: a built-in's documentation from the registry.
    HelpOn(String),
    Params,
    Reset,
    Load(PathBuf),
    Save(PathBuf),
    Quit,
}

/// Code of a command that cannot be understood (a REPL usage error).
pub const E_COMMAND: &str = "E0600";

impl FromStr for Command {
    type Err = Diag;

    /// Parses a trimmed input that starts with `:`. Error spans are byte
    /// ranges of that input.
    fn from_str(t: &str) -> Result<Command, Diag> {
        let (cmd, arg) = match t.split_once(char::is_whitespace) {
            Some((c, a)) => (c, a.trim()),
            None => (t, ""),
        };
        let file = |name: &str| {
            if arg.is_empty() {
                Err(
                    Diag::error(E_COMMAND, format!("`{name}` needs a file name"))
                        .at(0..cmd.len(), "no file name after this")
                        .note(format!("help: write e.g. `{name} session.loss`")),
                )
            } else {
                Ok(PathBuf::from(arg))
            }
        };
        let no_arg = |c: Command| {
            if arg.is_empty() {
                Ok(c)
            } else {
                let at = t.len() - arg.len();
                Err(Diag::error(E_COMMAND, format!("`{cmd}` takes no argument"))
                    .at(at..t.len(), "not expected"))
            }
        };
        match cmd {
            ":help" | ":h" | ":?" if !arg.is_empty() => {
                if crate::builtins::doc(arg).is_some() {
                    Ok(Command::HelpOn(arg.to_string()))
                } else {
                    let at = t.len() - arg.len();
                    Err(Diag::error(
                        E_COMMAND,
                        format!("no built-in function or constant `{arg}`"),
                    )
                    .at(at..t.len(), "not a built-in")
                    .note("help: `:help` lists them"))
                }
            }
            ":help" | ":h" | ":?" => no_arg(Command::Help),
            ":params" | ":p" => no_arg(Command::Params),
            ":reset" => no_arg(Command::Reset),
            ":quit" | ":q" | ":exit" => no_arg(Command::Quit),
            ":load" | ":l" => file(":load").map(Command::Load),
            ":save" | ":s" => file(":save").map(Command::Save),
            _ => {
                let names = COMMANDS
                    .iter()
                    .map(|(c, _)| c.split(' ').next().unwrap_or(c));
                let mut d = Diag::error(E_COMMAND, format!("unknown command `{cmd}`"))
                    .at(0..cmd.len(), "not a command");
                if let Some(s) = crate::interp::names::suggest(cmd, names) {
                    d = d.note(format!("help: did you mean `{s}`?"));
                }
                Err(d.note("help: `:help` lists the commands"))
            }
        }
    }
}

/// A diagnostic for a command that failed while it ran (a file that could
/// not be written), pointing at its argument.
pub fn failed(input: &str, message: String, why: String) -> Diag {
    let arg_start = input
        .find(char::is_whitespace)
        .map_or(0, |i| i + input[i..].len() - input[i..].trim_start().len());
    Diag::error("E0500", message).at(arg_start..input.trim_end().len(), why)
}

/// The text of `:help`: the commands, every statement form, the built-ins.
pub fn help_text() -> String {
    let mut s = String::from("Commands:\n");
    for (c, h) in COMMANDS {
        s.push_str(&format!("  {c:<12} {h}\n"));
    }
    s.push_str(
        "\nStatements (the final `;` is optional here; a bare expression prints its value):\n\
         \x20 param x = 1 [in [LO, HI]] [fixed];   param w[3, 4] [~ INIT(...)] [= [..]];\n\
         \x20 let y = EXPR;   fn f(a, b) = EXPR;   x = VALUE;   seed N;\n\
         \x20 print EXPR, ...;   expect COND [within TOL] [\"message\"];\n\
         \x20 minimize EXPR [from x = V, ...] [with OPT(opt=value, ...)] [for N steps];\n\
         \x20 maximize ...;   hesse;   minos [x, ...];\n\
         \x20 plot contour EXPR over x in [LO, HI], y in [LO, HI] [with path] to \"f.svg\";\n\
         \x20 plot loss to \"loss.png\";   plot EXPR, ... over t in [LO, HI] to \"f.svg\";\n",
    );
    let wrap = |title: &str, items: &[&str]| {
        let mut out = format!("\n{title}:\n ");
        let mut col = 1;
        for it in items {
            if col + it.len() + 1 > 78 {
                out.push_str("\n ");
                col = 1;
            }
            out.push(' ');
            out.push_str(it);
            col += it.len() + 1;
        }
        out.push('\n');
        out
    };
    let mut sections: Vec<&str> = Vec::new();
    for b in crate::builtins::BUILTINS {
        if !sections.contains(&b.kind.section()) {
            sections.push(b.kind.section());
        }
    }
    for sec in sections {
        let names: Vec<&str> = crate::builtins::BUILTINS
            .iter()
            .filter(|b| b.kind.section() == sec)
            .map(|b| b.name)
            .collect();
        s.push_str(&wrap(&format!("Built-in functions: {sec}"), &names));
    }
    s.push_str("\n`:help NAME` shows a built-in's signature and what it computes.\n");
    let consts: Vec<&str> = CONSTANTS.iter().map(|(n, _)| *n).collect();
    s.push_str(&wrap("Constants", &consts));
    s.push_str(&wrap("Optimizers (torch.optim)", optim::NAMES));
    let minuit: Vec<&str> = MINUIT.iter().map(|a| a.name).collect();
    s.push_str(&wrap("Minuit", &minuit));
    s.push_str("\nTab completes keywords, names and, inside `with adam(`, option names.\n");
    s.push_str("Ctrl-C abandons the line or stops a running minimization; Ctrl-D leaves.");
    s
}

/// The text of `:params`: one row per parameter. A parameter with a Minuit
/// error shows value and error rounded as the fit table rounds them (PDG).
pub fn params_table(s: &Session) -> String {
    if s.params.is_empty() {
        return "no parameters\n".to_string();
    }
    let head = ["name", "value", "limits", "fixed", "error"];
    let rows: Vec<[String; 5]> = s
        .params
        .iter()
        .map(|p| {
            let limits = match (p.lower, p.upper) {
                (None, None) => "-".to_string(),
                (lo, hi) => format!(
                    "[{}, {}]",
                    fmt_num(lo.unwrap_or(f64::NEG_INFINITY)),
                    fmt_num(hi.unwrap_or(f64::INFINITY))
                ),
            };
            let (value, error) = match (p.error, p.value.item()) {
                (Some(e), Some(v)) => {
                    let s = crate::minuit::report::pdg_format(Some(v), &[e]);
                    (s[0].clone(), s[1].clone())
                }
                (e, _) => (
                    p.value.to_string().replace('\n', " "),
                    e.map_or("-".to_string(), fmt_num),
                ),
            };
            [
                p.name.clone(),
                value,
                limits,
                if p.fixed { "yes" } else { "no" }.to_string(),
                error,
            ]
        })
        .collect();
    let mut widths = head.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[&str]| {
        let mut l = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                l.push_str(&format!("{c:<w$}  "));
            }
        }
        l.trim_end().to_string() + "\n"
    };
    let mut out = line(&head);
    for r in &rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        out.push_str(&line(&cells));
    }
    out
}

/// Writes the session's statements as a script, atomically (a temporary
/// file in the same folder, then a rename). Bare expressions, which a script
/// may not have, become `print` statements. Returns the statement count.
pub fn save(history: &[String], path: &Path) -> std::io::Result<usize> {
    let mut text = String::from("# saved from the losslang REPL\n");
    for st in history {
        let bare = crate::syntax::parse(st)
            .map(|p| p.stmts.len() == 1 && matches!(p.stmts[0].kind, StmtKind::Expr(_)))
            .unwrap_or(false);
        if bare {
            text.push_str("print ");
        }
        text.push_str(st.trim_end());
        if !st.trim_end().ends_with(';') {
            text.push(';');
        }
        text.push('\n');
    }
    crate::atomic::write_file(path, text.as_bytes()).map(|()| history.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse() {
        assert_eq!(":help".parse::<Command>(), Ok(Command::Help));
        assert_eq!(":q".parse::<Command>(), Ok(Command::Quit));
        assert_eq!(
            ":load  a b.loss".parse::<Command>(),
            Ok(Command::Load(PathBuf::from("a b.loss")))
        );
    }

    #[test]
    fn command_mistakes_are_diagnostics() {
        let d = ":bogus".parse::<Command>().unwrap_err();
        assert_eq!((d.code.as_str(), d.labels[0].0.clone()), (E_COMMAND, 0..6));
        let d = ":parms".parse::<Command>().unwrap_err();
        assert!(d.notes.iter().any(|n| n.contains("`:params`")), "{d:?}");
        let d = ":load".parse::<Command>().unwrap_err();
        assert!(d.message.contains("needs a file name"), "{d:?}");
        let d = ":reset now".parse::<Command>().unwrap_err();
        assert_eq!(d.labels[0].0, 7..10);
    }

    #[test]
    fn help_shows_every_statement_form() {
        let h = help_text();
        for form in [
            "plot contour",
            "plot loss",
            "from x = V",
            "expect COND",
            "seed N",
        ] {
            assert!(h.contains(form), "{form} missing from :help");
        }
    }

    #[test]
    fn failed_points_at_the_argument() {
        let d = failed(":save  /x/y.loss", "cannot write".into(), "here".into());
        assert_eq!(d.labels[0].0, 7..16);
    }
}
