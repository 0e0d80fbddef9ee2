//! Each scheduler on its own, against torch: the lr sequences of
//! tests/reference/training.json (torch 2.15, SGD at lr 0.01 with momentum
//! 0.9 and Adam at lr 0.1), stepped here without an optimizer, plus the
//! momentum cycles, the plateau's counting and the refusals.

use super::*;
use crate::optim::MomentumKind;
use serde_json::Value;

const REFERENCE: &str = include_str!("../../../tests/reference/training.json");

fn arg(name: &str, v: OptValue) -> OptArg {
    OptArg {
        name: name.into(),
        value: v,
        span: 0..0,
    }
}

fn n(v: f64) -> OptValue {
    OptValue::Num(v)
}

fn list(vs: &[f64]) -> OptValue {
    OptValue::Tuple(vs.iter().map(|v| OptValue::Num(*v)).collect())
}

fn spec(name: &str, args: Vec<OptArg>) -> SchedSpec {
    SchedSpec {
        name: name.into(),
        name_span: 0..0,
        span: 0..0,
        args,
        children: Vec::new(),
        lambda: None,
    }
}

fn ctx(lr: f64, momentum: Option<(MomentumKind, f64)>, total: usize) -> Context {
    Context {
        optimizer: "sgd",
        lr,
        momentum,
        total,
    }
}

/// The lr of each of `steps` steps (the schedule stepped after each).
fn lrs(spec: SchedSpec, c: &Context, steps: usize) -> Vec<f64> {
    let mut s = Schedule::build(spec, c).expect("a valid schedule");
    (0..steps)
        .map(|_| {
            let lr = s.lr();
            s.step(f64::NAN);
            lr
        })
        .collect()
}

fn reference_lr(id: &str) -> Vec<f64> {
    let v: Value = serde_json::from_str(REFERENCE).expect("training.json parses");
    let case = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no case {id}"));
    case["lr"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn assert_follows(id: &str, got: &[f64]) {
    let want = reference_lr(id);
    assert_eq!(got.len(), want.len(), "{id}");
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-10 * w.abs() + 1e-15,
            "{id}: step {k}: {g} want {w}"
        );
    }
}

/// An optimizer of training.json: (case suffix, lr, momentum).
type Case = (&'static str, f64, Option<(MomentumKind, f64)>);

/// The two optimizers of training.json.
fn both() -> [Case; 2] {
    [
        ("sgd", 0.01, Some((MomentumKind::Momentum, 0.9))),
        ("adam", 0.1, Some((MomentumKind::Beta1, 0.9))),
    ]
}

/// `name(option=value, ...)`.
fn sched(name: &str, args: Vec<(&str, OptValue)>) -> SchedSpec {
    spec(name, args.into_iter().map(|(k, v)| arg(k, v)).collect())
}

/// The simple schedules of training.json, by case id.
fn simple_cases() -> Vec<(&'static str, SchedSpec)> {
    let milestones = list(&[5.0, 12.0, 20.0]);
    let linear = vec![
        ("start_factor", n(0.1)),
        ("end_factor", n(1.0)),
        ("total_iters", n(10.0)),
    ];
    let warm = vec![("T_0", n(5.0)), ("T_mult", n(2.0)), ("eta_min", n(0.0005))];
    vec![
        (
            "step_lr",
            sched("step_lr", vec![("step_size", n(7.0)), ("gamma", n(0.5))]),
        ),
        (
            "multi_step_lr",
            sched(
                "multi_step_lr",
                vec![("milestones", milestones), ("gamma", n(0.3))],
            ),
        ),
        (
            "constant_lr",
            sched(
                "constant_lr",
                vec![("factor", n(0.25)), ("total_iters", n(6.0))],
            ),
        ),
        ("constant_lr-default", sched("constant_lr", vec![])),
        ("linear_lr", sched("linear_lr", linear)),
        ("linear_lr-default", sched("linear_lr", vec![])),
        (
            "exponential_lr",
            sched("exponential_lr", vec![("gamma", n(0.93))]),
        ),
        (
            "polynomial_lr",
            sched(
                "polynomial_lr",
                vec![("total_iters", n(15.0)), ("power", n(2.0))],
            ),
        ),
        (
            "cosine_annealing_lr",
            sched(
                "cosine_annealing_lr",
                vec![("T_max", n(12.0)), ("eta_min", n(0.001))],
            ),
        ),
        (
            "cosine_warm_restarts",
            sched("cosine_annealing_warm_restarts", warm),
        ),
    ]
}

#[test]
fn simple_schedules_follow_torch() {
    for (opt, lr, m) in both() {
        for (id, s) in simple_cases() {
            assert_follows(&format!("sched-{id}-{opt}"), &lrs(s, &ctx(lr, m, 30), 30));
        }
    }
}

#[test]
fn lambda_and_multiplicative_follow_torch() {
    for (opt, lr, m) in both() {
        let mut s = spec("lambda_lr", vec![]);
        s.lambda = Some((
            Box::new(|e| 1.0 / (1.0 + 0.1 * e)),
            "1 / (1 + 0.1 * epoch)".into(),
        ));
        assert_follows(
            &format!("sched-lambda_lr-{opt}"),
            &lrs(s, &ctx(lr, m, 30), 30),
        );
        let mut s = spec("multiplicative_lr", vec![]);
        s.lambda = Some((Box::new(|_| 0.97), "0.97".into()));
        assert_follows(
            &format!("sched-multiplicative_lr-{opt}"),
            &lrs(s, &ctx(lr, m, 30), 30),
        );
    }
}

/// `name(args)` over the schedules `children` (sequential, chained).
fn over(name: &str, args: Vec<OptArg>, children: Vec<SchedSpec>) -> SchedSpec {
    SchedSpec {
        children,
        ..spec(name, args)
    }
}

#[test]
fn sequential_and_chained_follow_torch() {
    for (opt, lr, m) in both() {
        let warmup = vec![arg("start_factor", n(0.2)), arg("total_iters", n(4.0))];
        let cases = [
            (
                "sequential",
                over(
                    "sequential",
                    vec![arg("milestones", list(&[4.0]))],
                    vec![
                        spec("linear_lr", warmup),
                        spec("exponential_lr", vec![arg("gamma", n(0.9))]),
                    ],
                ),
            ),
            (
                "chained",
                over(
                    "chained",
                    vec![],
                    vec![
                        spec(
                            "constant_lr",
                            vec![arg("factor", n(0.5)), arg("total_iters", n(3.0))],
                        ),
                        spec("exponential_lr", vec![arg("gamma", n(0.95))]),
                    ],
                ),
            ),
        ];
        for (id, s) in cases {
            assert_follows(&format!("sched-{id}-{opt}"), &lrs(s, &ctx(lr, m, 30), 30));
        }
    }
}

#[test]
fn cyclic_and_one_cycle_follow_torch_and_cycle_the_momentum() {
    let sgd = ctx(0.01, Some((MomentumKind::Momentum, 0.9)), 30);
    let cyc = || {
        spec(
            "cyclic_lr",
            vec![
                arg("base_lr", n(0.001)),
                arg("max_lr", n(0.02)),
                arg("step_size_up", n(4.0)),
            ],
        )
    };
    assert_follows("sched-cyclic_lr-sgd", &lrs(cyc(), &sgd, 30));
    let tri2 = spec(
        "cyclic_lr",
        vec![
            arg("base_lr", n(0.001)),
            arg("max_lr", n(0.02)),
            arg("step_size_up", n(3.0)),
            arg("step_size_down", n(5.0)),
            arg("mode", OptValue::Str("triangular2".into())),
        ],
    );
    assert_follows("sched-cyclic_lr-tri2", &lrs(tri2, &sgd, 30));
    // the momentum runs from max (at base_lr) to base (at max_lr) and back
    let mut s = Schedule::build(cyc(), &sgd).unwrap();
    let mut ms = Vec::new();
    for _ in 0..9 {
        ms.push(s.group.momentum.unwrap());
        s.step(f64::NAN);
    }
    let want = [0.9, 0.875, 0.85, 0.825, 0.8, 0.825, 0.85, 0.875, 0.9];
    assert!(
        ms.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12),
        "{ms:?}"
    );

    let adam = ctx(0.1, Some((MomentumKind::Beta1, 0.9)), 30);
    let one = spec(
        "one_cycle_lr",
        vec![arg("max_lr", n(0.5)), arg("total_steps", n(30.0))],
    );
    assert_follows("sched-one_cycle_lr-adam", &lrs(one, &adam, 30));
    let lin = spec(
        "one_cycle_lr",
        vec![
            arg("max_lr", n(0.3)),
            arg("pct_start", n(0.25)),
            arg("anneal_strategy", OptValue::Str("linear".into())),
        ],
    );
    assert_follows(
        "sched-one_cycle_lr-default-total",
        &lrs(lin, &ctx(0.1, Some((MomentumKind::Beta1, 0.9)), 40), 40),
    );
}

#[test]
fn plateau_counts_bad_steps_with_patience_and_cooldown() {
    let c = ctx(1.0, None, 100);
    let p = spec(
        "reduce_lr_on_plateau",
        vec![
            arg("factor", n(0.5)),
            arg("patience", n(1.0)),
            arg("cooldown", n(1.0)),
        ],
    );
    let mut s = Schedule::build(p, &c).unwrap();
    assert!(s.wants_metric);
    let mut seen = Vec::new();
    for loss in [10.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 8.0] {
        s.step(loss);
        seen.push(s.lr());
    }
    // two bad steps past the best reduce (patience 1); the cooldown step after a reduction is not counted
    assert_eq!(seen, vec![1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]);
}

fn refused(spec: SchedSpec, c: &Context) -> String {
    match Schedule::build(spec, c) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("accepted"),
    }
}

#[test]
fn nonsense_is_refused() {
    let c = ctx(0.1, None, 30);
    assert_eq!(
        refused(spec("cosine_annealing_lr", vec![arg("T_max", n(0.0))]), &c),
        "invalid value for option `T_max`: 0"
    );
    assert_eq!(
        refused(
            spec("multi_step_lr", vec![arg("milestones", list(&[5.0, 5.0]))]),
            &c
        ),
        "milestones must increase: 5 comes after 5"
    );
    assert_eq!(
        refused(
            spec(
                "one_cycle_lr",
                vec![arg("max_lr", n(0.1)), arg("total_steps", n(20.0))]
            ),
            &c
        ),
        "one_cycle_lr(total_steps=20) would be stepped 30 times"
    );
    assert!(refused(
        spec(
            "cyclic_lr",
            vec![arg("base_lr", n(0.1)), arg("max_lr", n(1.0))]
        ),
        &c
    )
    .contains("has none"));
    let no_momentum = ctx(0.1, Some((MomentumKind::Momentum, 0.0)), 30);
    assert!(refused(
        spec("one_cycle_lr", vec![arg("max_lr", n(0.1))]),
        &no_momentum
    )
    .contains("switch on"));
    assert_eq!(
        refused(spec("step_lr", vec![arg("step_sze", n(2.0))]), &c),
        "unknown option `step_sze` for step_lr"
    );
    assert_eq!(
        refused(spec("steplr", vec![]), &c),
        "unknown schedule `steplr`"
    );
    let mut seq = spec("sequential", vec![arg("milestones", list(&[3.0]))]);
    seq.children = vec![
        spec("reduce_lr_on_plateau", vec![]),
        spec("exponential_lr", vec![arg("gamma", n(0.9))]),
    ];
    assert!(refused(seq, &c).contains("cannot be part"));
}

#[test]
fn the_text_shows_every_option() {
    let s = Schedule::build(
        spec("step_lr", vec![arg("step_size", n(3.0))]),
        &ctx(0.1, None, 10),
    )
    .unwrap();
    assert_eq!(s.text, "step_lr(step_size=3, gamma=0.1)");
}
