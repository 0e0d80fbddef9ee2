//! Values: f64 arrays of any rank (a scalar has rank 0), with NumPy
//! broadcasting rules for shapes. The graph knows every node's shape before
//! evaluating, so shapes are checked here once, at build time.

use std::fmt;

pub mod csv;
pub mod init;
pub mod random;

use std::sync::atomic::{AtomicUsize, Ordering};

/// The default limit on the number of elements of one tensor (2^28).
pub const DEFAULT_MAX_ELEMENTS: usize = 1 << 28;

static MAX_ELEMENTS: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_ELEMENTS);

/// The largest number of elements a tensor may have; bigger ones are
/// refused with a diagnostic (E0402) before any memory is taken.
pub fn max_elements() -> usize {
    MAX_ELEMENTS.load(Ordering::Relaxed)
}

/// Changes the element limit (for tests and embedders).
pub fn set_max_elements(n: usize) {
    MAX_ELEMENTS.store(n, Ordering::Relaxed);
}

/// The most axes a tensor may have: NumPy 2's `NPY_MAXDIMS`. Shapes with
/// more are refused where they are made (a declaration, a shape argument,
/// an array literal, a graph node), so an axis always fits in a byte.
pub const MAX_RANK: usize = 64;

/// The number of elements of `shape`, or None past the limits (more than
/// `max_elements()` elements, overflow, or more than `MAX_RANK` axes).
pub fn checked_numel(shape: &[usize]) -> Option<usize> {
    if shape.len() > MAX_RANK {
        return None;
    }
    let n = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d))?;
    (n <= max_elements()).then_some(n)
}

/// A shape: the extent of each axis. Empty for a scalar.
pub type Shape = Vec<usize>;

/// The number of elements of a shape.
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// NumPy broadcasting of two shapes, or None when they are incompatible.
pub fn broadcast(a: &[usize], b: &[usize]) -> Option<Shape> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

/// Formats a shape as `[2, 3]` (a scalar is `[]`).
pub fn shape_str(shape: &[usize]) -> String {
    format!(
        "[{}]",
        shape
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// An owned value.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub shape: Shape,
    pub data: Vec<f64>,
}

impl Tensor {
    pub fn scalar(v: f64) -> Tensor {
        Tensor {
            shape: Vec::new(),
            data: vec![v],
        }
    }

    pub fn is_scalar(&self) -> bool {
        self.shape.is_empty()
    }

    /// The single value of a one-element tensor.
    pub fn item(&self) -> Option<f64> {
        if self.data.len() == 1 {
            Some(self.data[0])
        } else {
            None
        }
    }
}

/// Formats a number the way Python's repr does: the shortest text that reads
/// back as the same f64, `inf`, `-inf` and `nan` for the rest.
pub fn fmt_num(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let abs = v.abs();
    if abs != 0.0 && !(1e-4..1e16).contains(&abs) {
        // Scientific, Python style: 1e-05, 1.5e+20.
        let s = format!("{v:e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let e: i32 = e.parse().unwrap_or(0);
        return format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    }
    let s = format!("{v:?}");
    s
}

/// Tensors with more elements than this print summarized, as NumPy and
/// torch do: the first and last `EDGE_ITEMS` along each long axis, `...`
/// between. `--json` always carries every value.
pub const SUMMARY_THRESHOLD: usize = 1000;
/// How many leading and trailing entries a summarized axis shows.
pub const EDGE_ITEMS: usize = 3;

impl fmt::Display for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn rec(
            f: &mut fmt::Formatter<'_>,
            shape: &[usize],
            data: &[f64],
            summarize: bool,
        ) -> fmt::Result {
            if shape.is_empty() {
                return f.write_str(&fmt_num(data[0]));
            }
            let inner: usize = shape[1..].iter().product();
            let n = shape[0];
            let skip = summarize && n > 2 * EDGE_ITEMS;
            f.write_str("[")?;
            for i in 0..n {
                if skip && i == EDGE_ITEMS {
                    f.write_str(", ...")?;
                }
                if skip && (EDGE_ITEMS..n - EDGE_ITEMS).contains(&i) {
                    continue;
                }
                if i > 0 {
                    f.write_str(", ")?;
                }
                rec(f, &shape[1..], &data[i * inner..(i + 1) * inner], summarize)?;
            }
            f.write_str("]")
        }
        rec(
            f,
            &self.shape,
            &self.data,
            self.data.len() > SUMMARY_THRESHOLD,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting() {
        assert_eq!(broadcast(&[3, 1], &[4]), Some(vec![3, 4]));
        assert_eq!(broadcast(&[], &[2, 2]), Some(vec![2, 2]));
        assert_eq!(broadcast(&[3], &[4]), None);
    }

    #[test]
    fn numbers_print_like_python() {
        assert_eq!(fmt_num(3.0), "3.0");
        assert_eq!(fmt_num(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(fmt_num(1e-5), "1e-05");
        assert_eq!(fmt_num(-2.5e20), "-2.5e+20");
        assert_eq!(fmt_num(f64::NEG_INFINITY), "-inf");
        assert_eq!(fmt_num(123456.0), "123456.0");
    }

    #[test]
    fn tensors_print_nested() {
        let t = Tensor {
            shape: vec![2, 2],
            data: vec![1.0, 2.0, 3.0, 4.5],
        };
        assert_eq!(t.to_string(), "[[1.0, 2.0], [3.0, 4.5]]");
    }

    #[test]
    fn large_tensors_print_summarized() {
        let t = Tensor {
            shape: vec![100, 100],
            data: (0..10_000).map(f64::from).collect(),
        };
        assert_eq!(
            t.to_string(),
            "[[0.0, 1.0, 2.0, ..., 97.0, 98.0, 99.0], [100.0, 101.0, 102.0, ..., 197.0, 198.0, 199.0], \
             [200.0, 201.0, 202.0, ..., 297.0, 298.0, 299.0], ..., \
             [9700.0, 9701.0, 9702.0, ..., 9797.0, 9798.0, 9799.0], \
             [9800.0, 9801.0, 9802.0, ..., 9897.0, 9898.0, 9899.0], \
             [9900.0, 9901.0, 9902.0, ..., 9997.0, 9998.0, 9999.0]]"
        );
        // At the threshold every value is shown.
        let t = Tensor {
            shape: vec![1000],
            data: vec![0.5; 1000],
        };
        assert_eq!(t.to_string().matches("0.5").count(), 1000);
    }
}
