"""Our own torch cases for schedules and minibatch epochs, beyond
training.json: csv tables with `over`, tensor parameters, `watch` (with
reduce_lr_on_plateau on the watched value), schedules per epoch and per
step in one run, cyclic momentum on Adam's beta1, three-phase one-cycle,
LBFGS and Rprop under a schedule.

Run with the project's venv: /work/venv/bin/python tests/reference/gen_training_extra.py
It writes tests/reference/training_extra.json and the csv files under
tests/reference/data/. Scripts name csv files as "@REF@/data/...", which
the Rust test replaces with the directory of this file.
"""
import json
import math
import os

import torch

torch.set_default_dtype(torch.float64)
HERE = os.path.dirname(os.path.abspath(__file__))


def r(v):
    return repr(float(v))


def arr(vs):
    return "[" + ", ".join(r(v) for v in vs) + "]"


def mat(rows):
    return "[" + ", ".join(arr(row) for row in rows) + "]"


def snapshot(params):
    return {n: p.detach().tolist() for n, p in params.items()}


def train(params, make_opt, make_sched, loss_fn, data, epochs=None, batch=None,
          drop_last=False, steps=None, per_step=False, metric="none", watch=None):
    """torch's loop; returns lr per step, path (params before each step with
    that step's loss, then the result), epoch means and watched values."""
    opt = make_opt(list(params.values()))
    sched = make_sched(opt) if make_sched else None
    lrs, path, epoch_loss, watched = [], [], [], {k: [] for k in (watch or {})}

    def one_step(batch_data):
        lrs.append(opt.param_groups[0]["lr"])
        before = snapshot(params)

        def closure():
            opt.zero_grad()
            loss = loss_fn(params, batch_data)
            loss.backward()
            return loss

        loss = opt.step(closure)
        path.append({"loss": float(loss), "params": before})
        return float(loss)

    if epochs is None:
        for _ in range(steps):
            loss = one_step(data)
            if sched is not None:
                sched.step(loss) if metric == "loss" else sched.step()
    else:
        n = len(next(iter(data.values())))
        for _ in range(epochs):
            losses = []
            for start in range(0, n, batch):
                end = min(start + batch, n)
                if drop_last and end - start < batch:
                    break
                losses.append(one_step({k: v[start:end] for k, v in data.items()}))
                if sched is not None and per_step:
                    sched.step()
            mean = sum(losses) / len(losses)
            epoch_loss.append(mean)
            with torch.no_grad():
                for k, f in (watch or {}).items():
                    watched[k].append(float(f(params)))
            if sched is not None and not per_step:
                if metric == "watch":
                    sched.step(watched[next(iter(watch))][-1])
                elif metric == "mean":
                    sched.step(mean)
                else:
                    sched.step()
    path.append({"params": snapshot(params)})
    out = {"lr": lrs, "path": path}
    if epochs is not None:
        out["epoch_loss"] = epoch_loss
        if watch:
            out["watch"] = watched
    return out


def line_data(n, seed):
    g = torch.Generator().manual_seed(seed)
    xs = torch.linspace(-2, 2, n)
    ys = 1.5 * xs - 0.5 + 0.3 * torch.sin(3 * xs) + 0.1 * torch.randn(n, generator=g)
    return xs, ys


cases = []

# 1. a csv table over `over`, columns through `d.x`, a schedule per epoch
xs, ys = line_data(27, 1)
os.makedirs(os.path.join(HERE, "data"), exist_ok=True)
with open(os.path.join(HERE, "data", "train.csv"), "w") as fh:
    fh.write("x,y\n")
    for a, b in zip(xs.tolist(), ys.tolist()):
        fh.write(f"{a!r},{b!r}\n")
p = {"w": torch.tensor(0.2, requires_grad=True), "b": torch.tensor(-0.1, requires_grad=True)}
res = train(p, lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9),
            lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=0.005),
            lambda ps, d: torch.mean((ps["w"] * d["x"] + ps["b"] - d["y"]) ** 2),
            {"x": xs, "y": ys}, epochs=5, batch=6)
cases.append({"id": "csv-over-cosine-per-epoch", "script":
    'let d = csv("@REF@/data/train.csv");\nparam w = 0.2;\nparam b = -0.1;\n'
    "minimize mean((w * d.x + b - d.y)^2)\n  with sgd(lr=0.05, momentum=0.9)\n"
    "  schedule cosine_annealing_lr(T_max=4, eta_min=0.005)\n  for 5 epochs batch 6 over d;\n", **res})

# 2. tensor parameters: a [n, 2] design matrix and w[2], adam with step_lr per step in an epoch run
X = torch.stack([xs, xs ** 2], dim=1)
p = {"w": torch.tensor([0.1, -0.2], requires_grad=True), "c": torch.tensor(0.0, requires_grad=True)}
res = train(p, lambda ps: torch.optim.Adam(ps, lr=0.05),
            lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=4, gamma=0.7),
            lambda ps, d: torch.mean((d["X"] @ ps["w"] + ps["c"] - d["y"]) ** 2),
            {"X": X, "y": ys}, epochs=3, batch=10, per_step=True)
cases.append({"id": "tensor-params-per-step-in-epochs", "script":
    f"let X = {mat(X.tolist())};\nlet ys = {arr(ys.tolist())};\n"
    "param w[2] = [0.1, -0.2];\nparam c = 0;\n"
    "minimize mean((X @ w + c - ys)^2)\n  with adam(lr=0.05)\n"
    "  schedule step_lr(step_size=4, gamma=0.7) per step\n  for 3 epochs batch 10 over X, ys;\n", **res})

# 3. watch a validation loss, and reduce_lr_on_plateau on it
xv, yv = line_data(9, 2)
xv = xv * 0.9 + 0.05
p = {"w": torch.tensor(0.0, requires_grad=True), "b": torch.tensor(0.0, requires_grad=True)}
res = train(p, lambda ps: torch.optim.SGD(ps, lr=0.2),
            lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, factor=0.5, patience=1),
            lambda ps, d: torch.mean((ps["w"] * d["x"] + ps["b"] - d["y"]) ** 2),
            {"x": xs, "y": ys}, epochs=12, batch=9, metric="watch",
            watch={"val_loss": lambda ps: torch.mean((ps["w"] * xv + ps["b"] - yv) ** 2)})
cases.append({"id": "watch-val-loss-plateau", "script":
    f"let xs = {arr(xs.tolist())};\nlet ys = {arr(ys.tolist())};\n"
    f"let xv = {arr(xv.tolist())};\nlet yv = {arr(yv.tolist())};\n"
    "param w = 0;\nparam b = 0;\nfn model(x) = w * x + b;\n"
    "let val_loss = mean((model(xv) - yv)^2);\n"
    "minimize mean((model(xs) - ys)^2)\n  with sgd(lr=0.2)\n"
    "  schedule reduce_lr_on_plateau(factor=0.5, patience=1)\n"
    "  for 12 epochs batch 9 over xs, ys watch val_loss;\n", **res})

# 4. plateau per epoch on the epoch's mean loss (no watch), ragged batches
p = {"w": torch.tensor(3.0, requires_grad=True), "b": torch.tensor(1.0, requires_grad=True)}
res = train(p, lambda ps: torch.optim.SGD(ps, lr=0.3),
            lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, factor=0.3, patience=0, threshold=0.05),
            lambda ps, d: torch.mean((ps["w"] * d["x"] + ps["b"] - d["y"]) ** 2),
            {"x": xs, "y": ys}, epochs=8, batch=10, metric="mean")
cases.append({"id": "plateau-epoch-mean", "script":
    f"let xs = {arr(xs.tolist())};\nlet ys = {arr(ys.tolist())};\n"
    "param w = 3;\nparam b = 1;\n"
    "minimize mean((w * xs + b - ys)^2)\n  with sgd(lr=0.3)\n"
    "  schedule reduce_lr_on_plateau(factor=0.3, patience=0, threshold=0.05)\n"
    "  for 8 epochs batch 10 over xs, ys;\n", **res})

HIM = "(x^2 + y - 11)^2 + (x + y^2 - 7)^2"


def him(ps, _d):
    x, y = ps["x"], ps["y"]
    return (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2


def steps_case(cid, opt_text, make_opt, sched_text, make_sched, steps, metric="none", x0=(0.0, 0.0)):
    p = {"x": torch.tensor(x0[0], requires_grad=True), "y": torch.tensor(x0[1], requires_grad=True)}
    res = train(p, make_opt, make_sched, him, {}, steps=steps, metric=metric)
    cases.append({"id": cid, "script":
        f"param x = {r(x0[0])};\nparam y = {r(x0[1])};\nminimize {HIM}\n  with {opt_text}\n"
        f"  schedule {sched_text}\n  for {steps} steps;\n", **res})


S = torch.optim.lr_scheduler
steps_case("cyclic-adam-beta1-exp-range", "adam(lr=0.05)", lambda ps: torch.optim.Adam(ps, lr=0.05),
           'cyclic_lr(base_lr=0.01, max_lr=0.1, step_size_up=3, mode="exp_range", gamma=0.9, base_momentum=0.7, max_momentum=0.9)',
           lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3, mode="exp_range", gamma=0.9,
                                base_momentum=0.7, max_momentum=0.9), 25)
steps_case("one-cycle-three-phase-sgd", "sgd(lr=0.01, momentum=0.9, nesterov=true)",
           lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9, nesterov=True),
           "one_cycle_lr(max_lr=0.01, total_steps=30, three_phase=true, pct_start=0.25)",
           lambda o: S.OneCycleLR(o, max_lr=0.01, total_steps=30, three_phase=True, pct_start=0.25), 30)
steps_case("lbfgs-exponential", "lbfgs(lr=0.5, max_iter=4)", lambda ps: torch.optim.LBFGS(ps, lr=0.5, max_iter=4),
           "exponential_lr(gamma=0.8)", lambda o: S.ExponentialLR(o, gamma=0.8), 8, x0=(1.0, 1.0))
steps_case("rprop-cyclic-no-momentum", "rprop(lr=0.05)", lambda ps: torch.optim.Rprop(ps, lr=0.05),
           "cyclic_lr(base_lr=0.002, max_lr=0.2, step_size_up=5, cycle_momentum=false)",
           lambda o: S.CyclicLR(o, base_lr=0.002, max_lr=0.2, step_size_up=5, cycle_momentum=False), 20)
steps_case("rmsprop-one-cycle-momentum", "rmsprop(lr=0.01, momentum=0.5)",
           lambda ps: torch.optim.RMSprop(ps, lr=0.01, momentum=0.5),
           'one_cycle_lr(max_lr=0.05, anneal_strategy="linear")',
           lambda o: S.OneCycleLR(o, max_lr=0.05, total_steps=20, anneal_strategy="linear"), 20)
steps_case("sequential-warm-restarts", "adam(lr=0.1)", lambda ps: torch.optim.Adam(ps, lr=0.1),
           "sequential(constant_lr(factor=0.5, total_iters=3), cosine_annealing_warm_restarts(T_0=4, T_mult=2), milestones=[5])",
           lambda o: S.SequentialLR(o, [S.ConstantLR(o, factor=0.5, total_iters=3),
                                        S.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2)], milestones=[5]), 25)
steps_case("chained-cosine-multiplicative", "nadam(lr=0.05)", lambda ps: torch.optim.NAdam(ps, lr=0.05),
           "chained(cosine_annealing_lr(T_max=6), multiplicative_lr(1 - 0.01 * epoch))",
           lambda o: S.ChainedScheduler([S.CosineAnnealingLR(o, T_max=6),
                                         S.MultiplicativeLR(o, lambda e: 1 - 0.01 * e)]), 20)
steps_case("lambda-power-adamw", "adamw(lr=0.05)", lambda ps: torch.optim.AdamW(ps, lr=0.05),
           "lambda_lr(0.9^epoch + 0.05)", lambda o: S.LambdaLR(o, lambda e: 0.9 ** e + 0.05), 15)
steps_case("plateau-per-step-max-abs", "sgd(lr=0.01)", lambda ps: torch.optim.SGD(ps, lr=0.01),
           'reduce_lr_on_plateau(mode="min", threshold_mode="abs", threshold=0.5, patience=1, cooldown=2, min_lr=0.002)',
           lambda o: S.ReduceLROnPlateau(o, mode="min", threshold_mode="abs", threshold=0.5, patience=1,
                                         cooldown=2, min_lr=0.002), 30, metric="loss")

with open(os.path.join(HERE, "training_extra.json"), "w") as fh:
    json.dump({"generator": f"gen_training_extra.py (torch {torch.__version__})", "cases": cases}, fh)
print(len(cases), "cases")
