//! iminuit's `print(m)` as plain data and as text: the function-minimum
//! box, the parameter table, the MINOS table (once MINOS ran) and the
//! covariance matrix, in that order, as iminuit 2.33's `Minuit.__str__`
//! prints them after `migrad()`, `hesse()` and `minos()`.
//!
//! `FitReport` holds what the tables are drawn from, so another renderer
//! (the notebook's HTML tables) shows the same numbers and flags;
//! `boxes.rs` draws the text boxes and `pdg.rs` formats the numbers.

mod boxes;
mod pdg;

pub use boxes::{
    correlation, correlation_table, fmin_block, fmin_fields, matrix_table, minos_table,
    param_table, write_fmin_block, write_matrix_table, write_minos_table, write_param_table,
};
pub use pdg::{format_g, matrix_cell, matrix_format, pdg_format};

use super::{FunctionMinimum, Matrix, MinosError, ParamSpec};

/// One row of the parameter table.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamRow {
    /// The parameter's name.
    pub name: String,
    /// Its value (external coordinates).
    pub value: f64,
    /// Its parabolic ("Hesse") error; `None` leaves the column empty. iminuit
    /// shows the step size of a fixed parameter here.
    pub error: Option<f64>,
    /// MINOS errors `(lower, upper)`, lower negative.
    pub minos: Option<(f64, f64)>,
    /// Lower limit.
    pub lower: Option<f64>,
    /// Upper limit.
    pub upper: Option<f64>,
    /// Whether the parameter is fixed.
    pub fixed: bool,
}

/// The data of the function-minimum box: the minimum with the call counts
/// iminuit shows (every call of the fit so far: MIGRAD's, then HESSE's and
/// MINOS's added, as `Minuit.fmin.nfcn` counts them).
#[derive(Clone, Debug)]
pub struct Fmin {
    /// "Migrad", "Simplex" or "Scan".
    pub algorithm: String,
    /// The minimum; its `fval` has the sign the user sees (a maximization
    /// shows the maximum) and `nfcn`/`ngrad` are the running totals.
    pub min: FunctionMinimum,
}

/// The covariance matrix as iminuit's `m.covariance` holds it: over every
/// parameter, a fixed one a row and a column of zeros.
#[derive(Clone, Debug)]
pub struct Covariance {
    /// Row and column labels: every parameter, declaration order.
    pub names: Vec<String>,
    /// External coordinates.
    pub matrix: Matrix,
}

/// What iminuit's `print(m)` shows, as plain values.
#[derive(Clone, Debug)]
pub struct FitReport {
    /// The function-minimum box.
    pub fmin: Option<Fmin>,
    /// The parameter table, every parameter in declaration order.
    pub params: Vec<ParamRow>,
    /// MINOS results in the order they were computed (iminuit's `merrors`).
    pub merrors: Vec<(String, MinosError)>,
    /// The covariance matrix, when HESSE (or MIGRAD) produced one.
    pub covariance: Option<Covariance>,
}

impl FitReport {
    /// The report of a fit: `min` (with the counts and sign to show), the
    /// parameters as declared, and the MINOS errors so far.
    pub fn new(
        algorithm: &str,
        specs: &[ParamSpec],
        min: FunctionMinimum,
        merrors: &[(String, MinosError)],
    ) -> FitReport {
        let params = specs
            .iter()
            .enumerate()
            .map(|(k, p)| ParamRow {
                name: p.name.clone(),
                value: min.values.get(k).copied().unwrap_or(p.value),
                // iminuit shows a fixed parameter's step as its error
                error: Some(if p.fixed {
                    p.error
                } else {
                    min.errors.get(k).copied().unwrap_or(f64::NAN)
                }),
                minos: merrors
                    .iter()
                    .find(|(n, _)| *n == p.name)
                    .map(|(_, e)| (e.lower, e.upper)),
                lower: p.lower,
                upper: p.upper,
                fixed: p.fixed,
            })
            .collect();
        let covariance = min.covariance.as_ref().map(|c| Covariance {
            names: specs.iter().map(|p| p.name.clone()).collect(),
            matrix: full_covariance(specs, c),
        });
        FitReport {
            fmin: Some(Fmin {
                algorithm: algorithm.to_string(),
                min,
            }),
            params,
            merrors: merrors.to_vec(),
            covariance,
        }
    }

    /// The text report, box after box, as `print(m)` prints it (no trailing
    /// newline).
    pub fn text(&self) -> String {
        let mut out = String::new();
        self.write_text(&mut out);
        out.pop();
        out
    }

    /// Appends the text report and a newline to `out`: every box is
    /// written in place, so the report costs one string, not one per box,
    /// line or cell (a 1000-parameter covariance is 7 MB of text).
    pub fn write_text(&self, out: &mut String) {
        // room for the boxes above the matrix (which sizes itself), so the
        // string does not grow line by line: the minimum's box is about
        // 1.9 kB (its rules are 3-byte characters), the parameter table's
        // rules 0.3 kB each and its rows about 0.12 kB
        let minos = 800 * (!self.merrors.is_empty()) as usize;
        out.reserve(2048 + 1024 + 128 * (self.params.len() + 1) + minos);
        if let Some(f) = &self.fmin {
            write_fmin_block(out, &f.min, &f.algorithm);
        }
        write_param_table(out, &self.params);
        if !self.merrors.is_empty() {
            write_minos_table(out, &self.merrors);
        }
        if let Some(c) = &self.covariance {
            write_matrix_table(out, &c.names, &c.matrix);
        }
    }
}

/// A covariance over the free parameters spread over every parameter, the
/// fixed ones as rows and columns of zeros (iminuit's `m.covariance`).
pub fn full_covariance(specs: &[ParamSpec], free_cov: &Matrix) -> Matrix {
    let free: Vec<usize> = (0..specs.len()).filter(|&k| !specs[k].fixed).collect();
    let mut m = Matrix::zeros(specs.len(), specs.len());
    for (a, &i) in free.iter().enumerate() {
        for (b, &j) in free.iter().enumerate() {
            if a < free_cov.nrows() && b < free_cov.ncols() {
                m[(i, j)] = free_cov[(a, b)];
            }
        }
    }
    m
}

/// The goldens iminuit 2.33 printed (src/minuit/testdata/report_golden.json)
/// and readers for their values, shared by the tests of `pdg` and `boxes`.
#[cfg(test)]
pub(crate) mod golden {
    use super::Matrix;
    pub use serde_json::Value;

    pub fn golden() -> Value {
        serde_json::from_str(include_str!("../testdata/report_golden.json")).unwrap()
    }

    pub fn num(v: &Value) -> f64 {
        match v {
            Value::String(s) => match s.as_str() {
                "nan" => f64::NAN,
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                _ => panic!("bad number {s}"),
            },
            v => v.as_f64().unwrap(),
        }
    }

    pub fn opt(v: &Value) -> Option<f64> {
        if v.is_null() {
            None
        } else {
            Some(num(v))
        }
    }

    pub fn text(v: &Value) -> &str {
        v["text"].as_str().unwrap()
    }

    pub fn names(v: &Value) -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    }

    pub fn matrix(v: &Value) -> Matrix {
        let rows = v.as_array().unwrap();
        let n = rows.len();
        Matrix::from_fn(n, n, |i, j| num(&rows[i][j]))
    }
}
