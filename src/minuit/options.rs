//! Minuit's minimizers and their options, in one table: the interpreter
//! reads the options in this order (and a test holds it to the table), the
//! REPL completes and documents them from it, and `run` dispatches on it.
//! Also the options of the statements that continue from a minimum.

/// A Minuit minimizer as `with NAME(...)` names it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Algorithm {
    /// The name in `with NAME(...)`.
    pub name: &'static str,
    /// The title of the function-minimum box ("Migrad").
    pub title: &'static str,
    /// Its options, in the order the report lists them.
    pub options: &'static [&'static str],
}

/// Every Minuit minimizer (SPEC 5.3).
pub const ALGORITHMS: &[Algorithm] = &[
    Algorithm {
        name: "migrad",
        title: "Migrad",
        options: &["tol", "strategy", "errordef", "ncall", "grad"],
    },
    Algorithm {
        name: "simplex",
        title: "Simplex",
        options: &["tol", "errordef", "ncall"],
    },
    Algorithm {
        name: "scan",
        title: "Scan",
        options: &["n", "errordef"],
    },
];

/// The statements that continue from a Minuit minimum and their `NAME=value`
/// options: `minos [names] cl=C`, `contour X, Y cl=C points=N`,
/// `profile X points=N bound=K`.
pub const STATEMENTS: &[(&str, &[&str])] = &[
    ("minos", &["cl"]),
    ("contour", &["cl", "points"]),
    ("profile", &["points", "bound"]),
];

/// The minimizer called `name`, if Minuit has one.
pub fn algorithm(name: &str) -> Option<&'static Algorithm> {
    ALGORITHMS.iter().find(|a| a.name == name)
}
