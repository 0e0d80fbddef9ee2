//! Helpers for the interpreter's unit tests: a session whose text and
//! diagnostics go to memory, and the first error of a script as a `Diag`.

use super::{Options, Outcome, Session};
use crate::diagnostics::Diag;
use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

/// A writer into a shared buffer.
#[derive(Clone, Default)]
pub struct Buf(Rc<RefCell<Vec<u8>>>);

impl Buf {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.borrow()).into_owned()
    }
}

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What a script printed and how it ended.
pub struct Ran {
    pub session: Session,
    pub out: String,
    pub err: String,
    pub outcome: Outcome,
}

/// Runs `src` as `t.loss` with the given options.
pub fn run_with(src: &str, opts: Options) -> Ran {
    let (out, err) = (Buf::default(), Buf::default());
    let mut session = Session::new(opts, Box::new(out.clone()), Box::new(err.clone()));
    let outcome = session.run_source("t.loss", src);
    Ran {
        session,
        out: out.text(),
        err: err.text(),
        outcome,
    }
}

/// Runs `src` with default options.
pub fn run(src: &str) -> Ran {
    run_with(src, Options::default())
}

/// A quiet session holding `src` as its source, with nothing run yet (a
/// test runs statements of `src` through it one by one).
pub fn session_for(src: &str) -> Session {
    let mut s = Session::new(
        Options::default(),
        Box::new(Buf::default()),
        Box::new(Buf::default()),
    );
    s.src = src.to_string();
    s.segments = vec![("t.loss".into(), 0)];
    s.lines = crate::diagnostics::LineIndex::new(src);
    s
}

/// The diagnostic that stops `src` (parse errors included); panics if it
/// runs through.
pub fn first_error(src: &str) -> Diag {
    let program = match crate::syntax::parse(src) {
        Ok(p) => p,
        Err(mut d) => return d.remove(0),
    };
    let mut s = session_for(src);
    for st in &program.stmts {
        if let Err(d) = s.exec(st) {
            return d;
        }
    }
    panic!("no error in {src:?}")
}

/// The error of lowering expression `expr` in a session that has run
/// `decls`, and the source text its primary span covers (spans index
/// `expr`); panics if it lowers.
pub fn lower_error(decls: &str, expr: &str) -> (super::lower::LowerError, String) {
    let mut r = run(decls);
    assert_eq!(r.outcome, Outcome::Ok, "{}", r.err);
    let e = crate::syntax::parse_expr(expr).expect("parses");
    r.session.src = expr.to_string();
    let mut g = crate::graph::Graph::new();
    let err = match super::Lowerer::new(&r.session, &mut g).lower(&e) {
        Ok(_) => panic!("{expr:?} lowers"),
        Err(err) => err,
    };
    let d = crate::diagnostics::IntoDiagnostic::into_diagnostic(err.clone());
    let text = d
        .primary_span()
        .and_then(|s| expr.get(s.clone()))
        .unwrap_or("")
        .to_string();
    (err, text)
}
