//! The notebook's Minuit tables against iminuit 2.33's own HTML
//! (`Minuit._repr_html_`'s parts, written by tests/jupyter/make_iminuit_html.py
//! into tests/jupyter/iminuit-html/): the same fits run in a session whose
//! display sink renders each report with `jupyter::minuit_html`, compared
//! with the reference tag for tag (whitespace between tags aside).

use losslang::interp::{Display, DisplaySink, Options, Outcome, Session};
use losslang::jupyter::minuit_html::to_html;
use std::cell::RefCell;
use std::rc::Rc;

#[derive(Clone, Default)]
struct Collect(Rc<RefCell<Vec<String>>>);

impl DisplaySink for Collect {
    fn show(&mut self, item: Display<'_>) -> bool {
        if let Display::Minuit { report, .. } = item {
            self.0.borrow_mut().push(to_html(report));
        }
        true
    }
}

/// The HTML of every Minuit report `src` makes.
fn reports(src: &str) -> Vec<String> {
    let sink = Collect::default();
    let mut s = Session::new(
        Options::default(),
        Box::new(std::io::sink()),
        Box::new(std::io::sink()),
    );
    s.set_display(Box::new(sink.clone()));
    assert_eq!(s.run_source("t.loss", src), Outcome::Ok);
    let out = sink.0.borrow().clone();
    out
}

/// Tags and text, without the indentation and padding between them.
fn normalized(html: &str) -> String {
    let mut s = String::new();
    for line in html.lines() {
        s.push_str(line.trim());
    }
    s.replace("> ", ">").replace(" <", "<")
}

fn reference(name: &str) -> String {
    let path = format!(
        "{}/tests/jupyter/iminuit-html/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const HIMMELBLAU: &str = "param x = 0; param y = 0;
fn himmelblau(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2;\n";

#[test]
fn migrad_report_matches_iminuit() {
    let r = reports(&format!(
        "{HIMMELBLAU}minimize himmelblau(x, y) with migrad(grad=\"numeric\");"
    ));
    assert_eq!(normalized(&r[0]), normalized(&reference("migrad.html")));
}

#[test]
fn minos_report_matches_iminuit() {
    let r = reports(&format!(
        "{HIMMELBLAU}minimize himmelblau(x, y) from x = -2, y = 0 with migrad(grad=\"numeric\");
         hesse; minos;"
    ));
    assert_eq!(r.len(), 3);
    // the whole report, as Minuit._repr_html_: the minimum box, then the
    // parameters and MINOS errors (the reference), then the covariance
    let got = normalized(&r[2]);
    let want = normalized(&reference("minos.html"));
    assert!(got.contains(&want), "{got}\n---\n{want}");
    assert_eq!(got.matches("<table>").count(), 4, "{got}");
    assert!(got.starts_with("<table><tr><th colspan=\"2\""), "{got}");
}

#[test]
fn limits_within_reach_of_an_error_are_flagged_like_iminuit() {
    let r = reports(
        "param a = 0.5 in [0, inf]; param b = 0;
         minimize (a - 0.05)^2 / 0.01 + (b - 1)^2 with migrad(grad=\"numeric\");",
    );
    let params = normalized(&r[0]);
    let want = normalized(&reference("limits.html"));
    assert!(params.contains(&want), "{params}\n---\n{want}");
}
