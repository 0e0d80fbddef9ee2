#!/usr/bin/env python3
"""Extra optimizer trajectories from torch.optim (float64), in the format of
tests/reference/optim.json, for option combinations that optim.json leaves out.

    /path/to/venv/bin/python tests/reference/gen_optim_extra.py [OUT.json]

(default OUT: optim_extra.json beside this file). Check with
    python3 /work/shared/tools/refcheck.py optim tests/reference/optim_extra.json

Each case: the objective in .loss syntax (Himmelblau or Beale, possibly
negated), one 0-dim torch tensor per scalar parameter, the optimizer class
and keyword options exactly as written in the script. The torch objective is
the .loss text with `^` rewritten to `**`, so the expression tree (and hence
the rounding) is the one the script builds.

Training loop per step (as SPEC 5.1): zero_grad, evaluate, backward, step()
(L-BFGS: step(closure)). path[k] = {loss, params} before step k+1, k = 0..N;
`loss` is the script's objective (so a negated objective for maximize cases).

Two spellings of maximization are used, both meaning torch's maximize=True
applied to the written objective:
  * statement:  `maximize -(OBJ) with adam(...)`    ("maximize": true, options
    without a maximize key);
  * option:     `minimize -(OBJ) with sgd(..., maximize=true)` ("maximize":
    true, and options holds maximize: true).

stable_steps (how far the trajectory can be compared): the case is rerun from
three starts, each parameter p moved to p + s_i * 1e-12 * max(|p|, 1) with
sign patterns s = (+,+,...), (-,-,...), (+,-,+,...). (The max(|p|, 1) keeps
a start at 0 perturbed too.) The first index k at which any rerun differs from
the unperturbed path in some parameter or in the loss by more than
1e-9 * |v| + 1e-11 (v the unperturbed value), or where any value is not
finite, marks the separation; stable_steps = k - 1 (so path[0..=stable_steps]
is trustworthy), or `steps` if no rerun separates. An amplification of a
1e-12 perturbation below 1e3 leaves a 1e-16 rounding difference far below the
1e-7 comparison tolerance; branch flips in L-BFGS (line-search and tolerance
tests) are caught too when the perturbation flips them.
"""
import json
import math
import re
import sys
from pathlib import Path

import torch

torch.set_default_dtype(torch.float64)

HIMMELBLAU = "(x^2 + y - 11)^2 + (x + y^2 - 7)^2"
BEALE = "(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2"


def neg(expr):
    return f"-({expr})"


OPTIMIZERS = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "adamax": torch.optim.Adamax,
    "nadam": torch.optim.NAdam,
    "radam": torch.optim.RAdam,
    "rmsprop": torch.optim.RMSprop,
    "adagrad": torch.optim.Adagrad,
    "adadelta": torch.optim.Adadelta,
    "rprop": torch.optim.Rprop,
    "asgd": torch.optim.ASGD,
    "lbfgs": torch.optim.LBFGS,
    "adafactor": torch.optim.Adafactor,
}


def case(id, objective, start, optimizer, options, steps, statement_maximize=False):
    """statement_maximize: the script says `maximize OBJ` (torch maximize=True
    without the option in the script)."""
    return dict(id=id, objective=objective, start=start, optimizer=optimizer,
                options=options, steps=steps, statement_maximize=statement_maximize)


CASES = [
    # --- sgd
    case("x-sgd-wd-maximize-option", neg(HIMMELBLAU), {"x": 1.0, "y": -1.0}, "sgd",
         {"lr": 0.01, "weight_decay": 0.1, "maximize": True}, 150),
    case("x-sgd-nesterov-wd", HIMMELBLAU, {"x": 0.5, "y": 0.5}, "sgd",
         {"lr": 0.002, "momentum": 0.8, "nesterov": True, "weight_decay": 0.05}, 200),
    case("x-sgd-momentum-dampening-maximize-stmt", neg(BEALE), {"x": 1.0, "y": 1.5}, "sgd",
         {"lr": 0.005, "momentum": 0.9, "dampening": 0.5}, 200, statement_maximize=True),
    # --- adam family
    case("x-adam-amsgrad-maximize-stmt", neg(BEALE), {"x": 1.0, "y": 1.5}, "adam",
         {"lr": 0.05, "amsgrad": True}, 300, statement_maximize=True),
    case("x-adam-wd-betas-eps", BEALE, {"x": 2.0, "y": 0.0}, "adam",
         {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.05}, 300),
    case("x-adamw-amsgrad", HIMMELBLAU, {"x": -1.0, "y": 1.0}, "adamw",
         {"lr": 0.1, "amsgrad": True, "weight_decay": 0.05}, 300),
    case("x-adamw-maximize-option", neg(HIMMELBLAU), {"x": 1.0, "y": 1.0}, "adamw",
         {"lr": 0.05, "betas": (0.85, 0.995), "maximize": True}, 200),
    case("x-adamax-wd", BEALE, {"x": 1.0, "y": 1.5}, "adamax",
         {"lr": 0.05, "betas": (0.8, 0.99), "weight_decay": 0.01, "eps": 1e-6}, 300),
    case("x-nadam-momentum-decay", HIMMELBLAU, {"x": -2.0, "y": 2.0}, "nadam",
         {"lr": 0.05, "momentum_decay": 0.01}, 300),
    case("x-nadam-coupled-wd", BEALE, {"x": 1.0, "y": 1.5}, "nadam",
         {"lr": 0.02, "weight_decay": 0.05, "betas": (0.85, 0.99)}, 300),
    case("x-radam-decoupled-wd", HIMMELBLAU, {"x": 1.0, "y": 1.0}, "radam",
         {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}, 300),
    case("x-radam-coupled-wd", HIMMELBLAU, {"x": 0.0, "y": 0.0}, "radam",
         {"lr": 0.05, "weight_decay": 0.02, "betas": (0.8, 0.99)}, 200),
    # --- rmsprop / adagrad / adadelta
    case("x-rmsprop-centered-momentum-wd", BEALE, {"x": 1.0, "y": 1.5}, "rmsprop",
         {"lr": 0.005, "centered": True, "momentum": 0.7, "weight_decay": 0.01}, 300),
    case("x-rmsprop-alpha-eps", HIMMELBLAU, {"x": 3.0, "y": -3.0}, "rmsprop",
         {"lr": 0.02, "alpha": 0.9, "eps": 1e-6}, 300),
    case("x-adagrad-wd-lr-decay", BEALE, {"x": 1.0, "y": 1.5}, "adagrad",
         {"lr": 0.3, "weight_decay": 0.01, "lr_decay": 0.001, "eps": 1e-8}, 300),
    case("x-adadelta-wd", HIMMELBLAU, {"x": 0.0, "y": 0.0}, "adadelta",
         {"lr": 1.0, "rho": 0.8, "weight_decay": 0.05, "eps": 1e-5}, 300),
    # --- rprop / asgd
    case("x-rprop-maximize-option", neg(BEALE), {"x": 1.0, "y": 1.5}, "rprop",
         {"lr": 0.02, "etas": (0.4, 1.3), "maximize": True}, 150),
    case("x-rprop-maximize-stmt", neg(HIMMELBLAU), {"x": -1.0, "y": -1.0}, "rprop",
         {"lr": 0.05, "step_sizes": (1e-4, 0.5)}, 150, statement_maximize=True),
    case("x-asgd-lambd-alpha-wd", HIMMELBLAU, {"x": 0.0, "y": 0.0}, "asgd",
         {"lr": 0.005, "lambd": 0.001, "alpha": 0.5, "t0": 5.0, "weight_decay": 0.01}, 200),
    case("x-asgd-beale", BEALE, {"x": 1.0, "y": 1.5}, "asgd",
         {"lr": 0.01, "lambd": 0.01, "alpha": 0.9}, 200),
    # --- lbfgs
    case("x-lbfgs-history3-maxiter5", BEALE, {"x": 1.0, "y": 1.5}, "lbfgs",
         {"history_size": 3, "max_iter": 5}, 10),
    case("x-lbfgs-tolerance-change", HIMMELBLAU, {"x": 0.0, "y": 0.0}, "lbfgs",
         {"lr": 0.5, "tolerance_change": 1e-4, "max_iter": 10}, 8),
    case("x-lbfgs-strong-wolfe-himmelblau", HIMMELBLAU, {"x": 0.0, "y": 0.0}, "lbfgs",
         {"line_search_fn": "strong_wolfe"}, 6),
    case("x-lbfgs-strong-wolfe-history2-maxeval", HIMMELBLAU, {"x": -1.0, "y": 1.0}, "lbfgs",
         {"line_search_fn": "strong_wolfe", "history_size": 2, "max_iter": 8, "max_eval": 12}, 6),
    # --- adafactor
    case("x-adafactor-beta2-wd-d", HIMMELBLAU, {"x": 0.0, "y": 0.0}, "adafactor",
         {"lr": 0.05, "beta2_decay": -0.5, "weight_decay": 0.01, "d": 2.0}, 300),
    case("x-adafactor-maximize-option", neg(BEALE), {"x": 1.0, "y": 1.5}, "adafactor",
         {"lr": 0.02, "maximize": True}, 200),
]


# ---------------------------------------------------------------- scripts

def fmt_value(v):
    """An option value in .loss syntax."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, tuple):
        return "(" + ", ".join(fmt_value(x) for x in v) + ")"
    if isinstance(v, int):
        return str(v)
    return repr(float(v))


def make_script(c):
    out = [f"# {c['id']} (tests/reference/gen_optim_extra.py)"]
    for name, v in c["start"].items():
        out.append(f"param {name} = {float(v)!r};")
    verb = "maximize" if c["statement_maximize"] else "minimize"
    opts = ", ".join(f"{k}={fmt_value(v)}" for k, v in c["options"].items())
    out.append(f"{verb} {c['objective']}")
    out.append(f"  with {c['optimizer']}({opts}) for {c['steps']} steps;")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- torch runs

def compile_objective(expr, names):
    """The .loss expression as a Python function of the parameter tensors.
    Only names, numbers, + - * ^ and parentheses occur in these objectives."""
    if not re.fullmatch(r"[\sA-Za-z0-9_.+\-*^()]*", expr):
        raise ValueError(f"unsupported objective {expr!r}")
    src = expr.replace("^", "**")
    code = compile(src, "<objective>", "eval")

    def f(params):
        return eval(code, {"__builtins__": {}}, dict(zip(names, params)))
    return f


def trajectory(c, signs=None):
    names = list(c["start"])
    starts = [float(c["start"][n]) for n in names]
    if signs is not None:
        starts = [p + s * 1e-12 * max(abs(p), 1.0) for p, s in zip(starts, signs)]
    params = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in starts]
    f = compile_objective(c["objective"], names)
    opts = {k: v for k, v in c["options"].items()}
    if c["statement_maximize"]:
        opts["maximize"] = True
    opt = OPTIMIZERS[c["optimizer"]](params, **opts)

    def state():
        with torch.no_grad():
            loss = f(params)
        return {"loss": loss.item(), "params": {n: p.item() for n, p in zip(names, params)}}

    def closure():
        opt.zero_grad()
        loss = f(params)
        loss.backward()
        return loss

    path = [state()]
    for _ in range(c["steps"]):
        if c["optimizer"] == "lbfgs":
            opt.step(closure)
        else:
            closure()
            opt.step()
        path.append(state())
    return path


def separated(a, b):
    """True when two path entries differ by more than 1e-9 relative (+1e-11)."""
    pairs = [(a["loss"], b["loss"])] + [(a["params"][n], b["params"][n]) for n in a["params"]]
    for u, v in pairs:
        if not (math.isfinite(u) and math.isfinite(v)):
            return True
        if abs(u - v) > 1e-9 * abs(u) + 1e-11:
            return True
    return False


def stable_steps(c, path):
    n = len(c["start"])
    patterns = [[1] * n, [-1] * n, [1 if i % 2 == 0 else -1 for i in range(n)]]
    first = len(path)
    for signs in patterns:
        other = trajectory(c, signs)
        for k, (a, b) in enumerate(zip(path, other)):
            if k >= first:
                break
            if separated(a, b):
                first = k
                break
    return max(first - 1, 0)


def jsonable(v):
    if isinstance(v, tuple):
        return [jsonable(x) for x in v]
    return v


def enc_path(path):
    def num(x):
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return x
    return [{"loss": num(e["loss"]), "params": {k: num(v) for k, v in e["params"].items()}}
            for e in path]


def main():
    out_path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "optim_extra.json"
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    cases = []
    for c in CASES:
        path = trajectory(c)
        stable = stable_steps(c, path)
        cases.append({
            "id": c["id"],
            "script": make_script(c),
            "objective": c["objective"],
            "start": c["start"],
            "optimizer": c["optimizer"],
            "options": {k: jsonable(v) for k, v in c["options"].items()},
            "maximize": bool(c["statement_maximize"] or c["options"].get("maximize", False)),
            "steps": c["steps"],
            "stable_steps": stable,
            "path": enc_path(path),
        })
        print(f"{c['id']:45s} stable {stable:4d}/{c['steps']:<4d} final loss {path[-1]['loss']:.9g}",
              file=sys.stderr)
    doc = {
        "generator": f"torch {torch.__version__}, float64 (tests/reference/gen_optim_extra.py)",
        "cases": cases,
    }
    with open(out_path, "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()
