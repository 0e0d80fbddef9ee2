//! `adafactor`: torch.optim.Adafactor (Shazeer & Stern, 2018, as torch
//! implements it), an Adam-like method whose second moment is factored into
//! row and column means for parameters of rank 2 or more.
//!
//! This follows torch's `_single_tensor_adafactor` operation by operation:
//! per parameter, `beta2_t = 1 - t^beta2_decay`, the relative step size
//! `rho_t = min(lr, 1/sqrt(t))` scaled by the parameter's RMS (at least
//! `eps2`), decoupled weight decay `lr * weight_decay`, the second-moment
//! estimate (factored over the last two dimensions, leading dimensions
//! batched; elementwise for scalars and vectors), the update
//! `grad / sqrt(max(v, eps1^2))` and its clipping to RMS at most `d`.
//!
//! Each parameter of the layout is its own torch parameter: RMS, clipping
//! and factoring are per parameter. State is allocated in [`build`].

use std::ops::Range;

use super::common::{check_nonneg, py_max, py_min};
use super::{Closure, OptError, OptField, OptReader, OptValue, Optimizer, ParamLayout};

/// Reads `adafactor(...)` options in torch's constructor order, validates
/// them as torch does, and allocates the state for `layout`.
///
/// `eps` is a pair whose first entry torch defaults to `None` (the machine
/// epsilon of float64); the script gives two numbers or nothing. `foreach`
/// is not accepted (it changes nothing here). `maximize` is read but not
/// applied: the caller negates the objective.
pub fn build(r: &mut OptReader, layout: &ParamLayout) -> Result<Box<dyn Optimizer>, OptError> {
    let AdafactorConfig {
        lr,
        beta2_decay,
        eps: Eps(eps1, eps2),
        d,
        weight_decay,
        maximize: _,
    } = AdafactorConfig::read(r)?;

    check_nonneg(r, "lr", lr)?;
    r.check(
        "beta2_decay",
        0.0 >= beta2_decay,
        beta2_decay,
        "beta2_decay must be <= 0",
    )?;
    if let Some(e1) = eps1 {
        r.check(
            "eps",
            0.0 <= e1,
            format!("({e1}, {eps2})"),
            "eps[0] (epsilon1) must be >= 0",
        )?;
    }
    let eps_shown = match eps1 {
        Some(e1) => format!("({e1}, {eps2})"),
        None => format!("(None, {eps2})"),
    };
    r.check(
        "eps",
        0.0 <= eps2,
        eps_shown,
        "eps[1] (epsilon2) must be >= 0",
    )?;
    r.check("d", 1.0 <= d, d, "d (the clipping threshold) must be >= 1")?;
    check_nonneg(r, "weight_decay", weight_decay)?;

    Ok(Box::new(Adafactor::new(
        Config {
            lr,
            beta2_decay,
            eps1: eps1.unwrap_or(f64::EPSILON),
            eps2,
            d,
            weight_decay,
        },
        layout,
    )))
}

/// Adafactor's `eps=(eps1, eps2)`: a pair whose first entry may be torch's
/// `None` (the machine epsilon of float64).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Eps(pub Option<f64>, pub f64);

impl OptField for Eps {
    /// Reads `eps` and records it as given, `None` included.
    fn read(r: &mut OptReader, name: &'static str, default: Eps) -> Result<Eps, OptError> {
        let eps = match r.raw(name) {
            None => default,
            Some(a) => match &a.value {
                OptValue::Tuple(vs) => match vs.as_slice() {
                    [OptValue::Num(e1), OptValue::Num(e2)] => Eps(Some(*e1), *e2),
                    [OptValue::None, OptValue::Num(e2)] => Eps(None, *e2),
                    _ => return Err(eps_type_error(a)),
                },
                _ => return Err(eps_type_error(a)),
            },
        };
        let first = eps.0.map(OptValue::Num).unwrap_or(OptValue::None);
        r.record(name, OptValue::Tuple(vec![first, OptValue::Num(eps.1)]));
        Ok(eps)
    }
}

optim_config! {
    /// `adafactor(...)`'s options with torch.optim.Adafactor's defaults, as
    /// the script gives them (`Config` is what they resolve to).
    pub struct AdafactorConfig {
        lr: f64 = 1e-2,
        beta2_decay: f64 = -0.8,
        eps: Eps = Eps(None, 1e-3),
        d: f64 = 1.0,
        weight_decay: f64 = 0.0,
        /// Read but not applied: the caller negates the objective.
        maximize: bool = false,
    }
}

fn eps_type_error(a: &super::OptArg) -> OptError {
    OptError::Type {
        name: "eps".to_string(),
        expected: "a pair of numbers (eps1, eps2)".to_string(),
        got: a.value.kind().to_string(),
        span: a.span.clone(),
    }
}

/// The resolved options of one Adafactor optimizer.
#[derive(Clone, Debug)]
pub struct Config {
    /// Cap on the relative step size, and the weight-decay scale (`lr`, default 1e-2).
    pub lr: f64,
    /// `beta2_t = 1 - t^beta2_decay` (`beta2_decay`, default -0.8).
    pub beta2_decay: f64,
    /// Floor of the second-moment estimate, squared (`eps[0]`, default float64's epsilon).
    pub eps1: f64,
    /// Floor of a parameter's RMS in the step size (`eps[1]`, default 1e-3).
    pub eps2: f64,
    /// Clipping threshold on the update's RMS (`d`, default 1).
    pub d: f64,
    /// Decoupled weight decay, times `lr` (`weight_decay`, default 0).
    pub weight_decay: f64,
}

/// The second-moment state of one parameter.
enum Moment {
    /// Scalars and vectors: one running mean of `g^2` per element.
    Full { variance: Vec<f64> },
    /// Rank >= 2, seen as `batch` matrices of `rows x cols`: running means of
    /// `g^2` along each row (`row_var`, `batch * rows`) and each column
    /// (`col_var`, `batch * cols`).
    Factored {
        batch: usize,
        rows: usize,
        cols: usize,
        row_var: Vec<f64>,
        col_var: Vec<f64>,
    },
}

struct ParamState {
    range: Range<usize>,
    moment: Moment,
}

/// torch.optim.Adafactor with its state.
pub struct Adafactor {
    cfg: Config,
    /// torch's per-parameter `state["step"]`; every parameter gets a gradient
    /// at every step here, so one counter serves all.
    step: u64,
    params: Vec<ParamState>,
    grad: Vec<f64>,
    /// The update of one parameter (torch's `var_estimate` / `update`).
    update: Vec<f64>,
}

impl Adafactor {
    /// An optimizer for the parameters of `layout`, with fresh state.
    pub fn new(cfg: Config, layout: &ParamLayout) -> Self {
        let params: Vec<ParamState> = layout
            .shapes
            .iter()
            .zip(layout.ranges())
            .map(|(shape, range)| {
                let moment = if shape.len() >= 2 {
                    let rows = shape[shape.len() - 2];
                    let cols = shape[shape.len() - 1];
                    let batch: usize = shape[..shape.len() - 2].iter().product();
                    Moment::Factored {
                        batch,
                        rows,
                        cols,
                        row_var: vec![0.0; batch * rows],
                        col_var: vec![0.0; batch * cols],
                    }
                } else {
                    Moment::Full {
                        variance: vec![0.0; range.len()],
                    }
                };
                ParamState { range, moment }
            })
            .collect();
        let largest = params.iter().map(|p| p.range.len()).max().unwrap_or(0);
        Adafactor {
            cfg,
            step: 0,
            params,
            grad: vec![0.0; layout.len()],
            update: vec![0.0; largest],
        }
    }
}

impl Optimizer for Adafactor {
    lr_field!(cfg.lr);

    fn step(&mut self, params: &mut [f64], closure: &mut Closure<'_>) -> f64 {
        debug_assert_eq!(params.len(), self.grad.len());
        let loss = closure(params, &mut self.grad);
        let cfg = &self.cfg;
        self.step += 1;
        let step = self.step as f64;
        let one_minus_beta2_t = step.powf(cfg.beta2_decay);
        let rho_t = py_min(cfg.lr, 1.0 / step.powf(0.5));
        for state in &mut self.params {
            let p = &mut params[state.range.clone()];
            let g = &self.grad[state.range.clone()];
            let u = &mut self.update[..p.len()];
            let sqrt_numel = (p.len() as f64).powf(0.5);
            let alpha = py_max(cfg.eps2, norm(p) / sqrt_numel) * rho_t;
            cfg.decay(p);
            state.moment.estimate(g, u, one_minus_beta2_t, cfg.eps1);
            cfg.apply(p, g, u, alpha, sqrt_numel);
        }
        loss
    }
}

impl Config {
    /// torch's decoupled weight decay, `param.mul_(1 - lr * weight_decay)`.
    fn decay(&self, p: &mut [f64]) {
        if self.weight_decay != 0.0 {
            let keep = 1.0 - self.lr * self.weight_decay;
            p.iter_mut().for_each(|x| *x *= keep);
        }
    }

    /// Turns the variance estimate `u` into the update
    /// `g / sqrt(max(u, eps1^2))`, clips its RMS to at most `d` and adds it
    /// to `p` times minus the step size `alpha`.
    fn apply(&self, p: &mut [f64], g: &[f64], u: &mut [f64], alpha: f64, sqrt_numel: f64) {
        let floor = self.eps1 * self.eps1;
        for (ui, gi) in u.iter_mut().zip(g) {
            *ui = (1.0 / clamp_min(*ui, floor).sqrt()) * gi;
        }
        let denom = py_max(1.0, norm(u) / (sqrt_numel * self.d));
        let scale = -alpha / denom;
        for (x, ui) in p.iter_mut().zip(u.iter()) {
            *x = scale.mul_add(*ui, *x);
        }
    }
}

impl Moment {
    /// Updates the running means of `g^2` with weight `w` (torch's
    /// `1 - beta2_t`) and writes torch's `var_estimate` into `u`.
    fn estimate(&mut self, g: &[f64], u: &mut [f64], w: f64, eps1: f64) {
        match self {
            Moment::Full { variance } => {
                for ((v, gi), ui) in variance.iter_mut().zip(g).zip(u.iter_mut()) {
                    *v = lerp(*v, gi * gi, w);
                    *ui = *v;
                }
            }
            Moment::Factored {
                batch,
                rows,
                cols,
                row_var,
                col_var,
            } => {
                let (rows, cols) = (*rows, *cols);
                let size = rows * cols;
                for b in 0..*batch {
                    let block = b * size..(b + 1) * size;
                    let rv = &mut row_var[b * rows..(b + 1) * rows];
                    let cv = &mut col_var[b * cols..(b + 1) * cols];
                    factored_means(&g[block.clone()], rv, cv, w);
                    factored_estimate(rv, cv, eps1, &mut u[block]);
                }
            }
        }
    }
}

/// The running means of one `rows x cols` matrix `g`'s squares along each
/// row (`rv`) and each column (`cv`): torch's `vector_norm(g, dim=-1)^2 /
/// cols` (and over dim -2), then lerp with weight `w`.
fn factored_means(g: &[f64], rv: &mut [f64], cv: &mut [f64], w: f64) {
    let (rows, cols) = (rv.len(), cv.len());
    for (i, r) in rv.iter_mut().enumerate() {
        let row = &g[i * cols..(i + 1) * cols];
        let n = row.iter().map(|x| x * x).sum::<f64>().sqrt();
        *r = lerp(*r, n * n / cols as f64, w);
    }
    for (j, c) in cv.iter_mut().enumerate() {
        let s: f64 = (0..rows).map(|i| g[i * cols + j] * g[i * cols + j]).sum();
        let n = s.sqrt();
        *c = lerp(*c, n * n / rows as f64, w);
    }
}

/// torch's factored `var_estimate` of one matrix:
/// `(row_var @ col_var) / clamp(mean(row_var), eps1)`, into `u`.
fn factored_estimate(rv: &[f64], cv: &[f64], eps1: f64, u: &mut [f64]) {
    let cols = cv.len();
    let mean = rv.iter().sum::<f64>() / rv.len() as f64;
    let mean = clamp_min(mean, eps1);
    for (i, r) in rv.iter().enumerate() {
        for (j, c) in cv.iter().enumerate() {
            u[i * cols + j] = r * c / mean;
        }
    }
}

/// torch's `lerp(start, end, weight)` for a scalar weight, with its switch of
/// formula at |weight| = 0.5. On CPU both forms are fused multiply-adds (the
/// vectorized kernel's `fmadd`, the compiler's contraction in the scalar
/// one), and so is `param.add_(update, alpha=...)` below: with them the
/// reference case `adafactor` matches torch bit for bit.
fn lerp(start: f64, end: f64, weight: f64) -> f64 {
    if weight.abs() < 0.5 {
        weight.mul_add(end - start, start)
    } else {
        (-(end - start)).mul_add(1.0 - weight, end)
    }
}

/// torch's `clamp_min`: NaN stays NaN.
fn clamp_min(x: f64, min: f64) -> f64 {
    if x < min {
        min
    } else {
        x
    }
}

/// The 2-norm, `sqrt(sum x^2)`.
fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{self, arg, follow_case, pair};
    use super::super::{OptArg, OptError, OptReader, OptValue, ParamLayout};
    use super::*;

    fn make(args: &[OptArg], layout: &ParamLayout) -> Result<Box<dyn Optimizer>, OptError> {
        testutil::make("adafactor", args, layout)
    }

    #[test]
    fn the_factored_estimate_is_the_outer_product_over_the_row_mean() {
        // g = [[3, 4], [0, 0]] into fresh means with weight 1 (norms exact):
        // the row means of g^2 are [12.5, 0], the column means [4.5, 8].
        let g = [3.0, 4.0, 0.0, 0.0];
        let (mut rv, mut cv) = ([0.0; 2], [0.0; 2]);
        factored_means(&g, &mut rv, &mut cv, 1.0);
        assert_eq!((rv, cv), ([12.5, 0.0], [4.5, 8.0]));
        let mut u = [0.0; 4];
        factored_estimate(&rv, &cv, 1e-30, &mut u);
        let mean = 6.25;
        assert_eq!(u, [12.5 * 4.5 / mean, 12.5 * 8.0 / mean, 0.0, 0.0]);
        // the row mean is floored at eps1
        factored_estimate(&[0.5, 0.5], &cv, 2.0, &mut u);
        assert_eq!(
            u,
            [
                0.5 * 4.5 / 2.0,
                0.5 * 8.0 / 2.0,
                0.5 * 4.5 / 2.0,
                0.5 * 8.0 / 2.0
            ]
        );
    }

    #[test]
    fn reference() {
        follow_case("adafactor");
    }

    #[test]
    fn options_in_torch_order_with_defaults() {
        let args = [];
        let mut r = OptReader::new("adafactor", &args).unwrap();
        build(&mut r, &ParamLayout::scalars(1)).unwrap();
        let opts = r.finish().unwrap();
        assert_eq!(
            opts,
            vec![
                ("lr", OptValue::Num(1e-2)),
                ("beta2_decay", OptValue::Num(-0.8)),
                (
                    "eps",
                    OptValue::Tuple(vec![OptValue::None, OptValue::Num(1e-3)])
                ),
                ("d", OptValue::Num(1.0)),
                ("weight_decay", OptValue::Num(0.0)),
                ("maximize", OptValue::Bool(false)),
            ]
        );
        let args = [arg("eps", pair(1e-30, 1e-4))];
        let mut r = OptReader::new("adafactor", &args).unwrap();
        build(&mut r, &ParamLayout::scalars(1)).unwrap();
        let opts = r.finish().unwrap();
        assert_eq!(opts[2].1, pair(1e-30, 1e-4));
    }

    #[test]
    fn validation() {
        let layout = ParamLayout::scalars(2);
        let bad = |args: &[OptArg], name: &str| match make(args, &layout) {
            Err(OptError::Range { name: n, .. }) => assert_eq!(n, name),
            Err(e) => panic!("{name}: unexpected error {e}"),
            Ok(_) => panic!("{name}: accepted"),
        };
        bad(&[arg("lr", OptValue::Num(-1e-3))], "lr");
        bad(&[arg("beta2_decay", OptValue::Num(0.5))], "beta2_decay");
        bad(&[arg("eps", pair(-1.0, 1e-3))], "eps");
        bad(&[arg("eps", pair(1e-30, -1e-3))], "eps");
        bad(&[arg("d", OptValue::Num(0.5))], "d");
        bad(&[arg("weight_decay", OptValue::Num(-0.1))], "weight_decay");
        for v in [
            OptValue::Num(1e-3),
            OptValue::Tuple(vec![OptValue::Num(1e-3)]),
            OptValue::Tuple(vec![OptValue::Str("a".into()), OptValue::Num(1e-3)]),
        ] {
            assert!(matches!(
                make(&[arg("eps", v)], &layout),
                Err(OptError::Type { .. })
            ));
        }
        assert!(matches!(
            make(&[arg("foreach", OptValue::Bool(true))], &layout),
            Err(OptError::Unknown { .. })
        ));
        assert!(make(&[arg("beta2_decay", OptValue::Num(0.0))], &layout).is_ok());
        assert!(make(&[arg("maximize", OptValue::Bool(true))], &layout).is_ok());
    }

    /// `maximize` is the caller's business: the optimizer steps the same way.
    #[test]
    fn maximize_is_not_applied_here() {
        let layout = ParamLayout::scalars(1);
        let mut a = make(&[], &layout).unwrap();
        let mut b = make(&[arg("maximize", OptValue::Bool(true))], &layout).unwrap();
        let (mut p, mut q) = ([1.0], [1.0]);
        let mut f = |x: &[f64], g: &mut [f64]| {
            g[0] = 2.0 * x[0];
            x[0] * x[0]
        };
        a.step(&mut p, &mut f);
        b.step(&mut q, &mut f);
        assert_eq!(p, q);
        assert!(p[0] < 1.0);
    }

    /// One rank-2 parameter (2x3) beside a scalar, three steps on
    /// f = sum(c * w^2) + (s - 2)^2, against numbers from an independent
    /// NumPy transcription of torch's `_single_tensor_adafactor`, written
    /// from torch's source (lr=0.1, weight_decay=0.1; the tolerance allows
    /// for NumPy's summation order).
    #[test]
    fn rank2_parameter() {
        let layout = ParamLayout {
            shapes: vec![vec![2, 3], vec![]],
        };
        let args = [
            arg("lr", OptValue::Num(0.1)),
            arg("weight_decay", OptValue::Num(0.1)),
        ];
        let mut opt = make(&args, &layout).unwrap();
        let c = [1.0, 2.0, 3.0, 0.5, 0.25, 4.0];
        let mut p = [0.3, -1.2, 0.5, 2.0, -0.1, 0.7, 1.5];
        let mut f = |x: &[f64], g: &mut [f64]| {
            let mut loss = 0.0;
            for i in 0..6 {
                g[i] = 2.0 * c[i] * x[i];
                loss += c[i] * x[i] * x[i];
            }
            g[6] = 2.0 * (x[6] - 2.0);
            loss + (x[6] - 2.0) * (x[6] - 2.0)
        };
        for _ in 0..3 {
            opt.step(&mut p, &mut f);
        }
        let want = RANK2_WANT;
        for (i, (a, b)) in p.iter().zip(want).enumerate() {
            assert!((a - b).abs() <= 1e-13 * b.abs().max(1.0), "{i}: {a} vs {b}");
        }
    }

    const RANK2_WANT: [f64; 7] = [
        0.18912438488734967,
        -0.7942999145060297,
        0.30936015248200976,
        1.5842697311861287,
        -0.09283559296904736,
        0.37236012479755837,
        1.85795355211138,
    ];

    /// A rank-3 parameter (2x2x3) factors each of its two matrices on its
    /// own, with RMS and clipping over the whole parameter: two steps at
    /// lr=0.1 on f = sum(k * w^2) / 2, against the same NumPy transcription.
    #[test]
    fn leading_dims_are_batched() {
        let layout = ParamLayout {
            shapes: vec![vec![2, 2, 3]],
        };
        let mut opt = make(&[arg("lr", OptValue::Num(0.1))], &layout).unwrap();
        let mut p = [
            0.5, -1.0, 2.0, 1.5, -0.5, 1.0, -1.0, 0.5, 1.5, 2.0, 1.0, -0.5,
        ];
        let mut f = |x: &[f64], g: &mut [f64]| {
            for i in 0..12 {
                g[i] = x[i] * (1.0 + (i % 3) as f64);
            }
            0.0
        };
        for _ in 0..2 {
            opt.step(&mut p, &mut f);
        }
        let want = [
            0.424327092709062,
            -0.7900250255411313,
            1.7876777393047647,
            1.0962272592388835,
            -0.31618065705032306,
            0.8091188650143647,
            -0.8873596541656034,
            0.38829572890753405,
            1.263620675429911,
            1.6687993842814832,
            0.6768982741100877,
            -0.38490884020218125,
        ];
        for (i, (a, b)) in p.iter().zip(want).enumerate() {
            assert!((a - b).abs() <= 1e-13 * b.abs().max(1.0), "{i}: {a} vs {b}");
        }
    }
}
