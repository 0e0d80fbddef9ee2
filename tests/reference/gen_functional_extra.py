"""More torch.nn.functional cases for losslang, beyond functional.json.

Writes two files next to this script:

- functional_extra.json: cases in functional.json's format ({"id", "script",
  "expected"}): each script declares a parameter, prints a function of it
  and the gradient of a weighted sum of it, and "expected" holds torch's
  numbers (float64). Other points, random shapes, broadcasting, every
  option, reductions, kinks and boundaries.
- special.json: torch's values of erf, erfc, erfinv, lgamma, digamma,
  polygamma(1, .), xlogy and logaddexp at many points across each domain,
  for the Rust test that holds our special functions to 1e-12 relative.

Run with a Python that has torch: python3 tests/reference/gen_functional_extra.py
"""

import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(14)


def num(v):
    """A float as refcheck reads it: non-finite values as strings."""
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def tolist(t):
    t = t.detach()
    if t.dim() == 0:
        return num(t.item())
    return [tolist(s) for s in t]


def lit(a):
    """A losslang literal for a nested list or a number."""
    if isinstance(a, torch.Tensor):
        a = a.tolist()
    if isinstance(a, list):
        return "[" + ", ".join(lit(x) for x in a) + "]"
    return repr(float(a))


def rand(shape, lo=-3.0, hi=3.0):
    return torch.tensor(rng.uniform(lo, hi, size=shape))


CASES = []


def case(cid, p, fn, expr, lets=None, grad=True):
    """p: the parameter's value; fn(p, **lets) the torch value; expr the
    losslang expression in `p` and the lets. Prints the value and, if
    asked, the gradient of sum(value * w) with random weights w."""
    lets = lets or {}
    lines = [f"param p = {lit(p)};"]
    for k, v in lets.items():
        lines.append(f"let {k} = {lit(v)};")
    pt = p.clone().requires_grad_(True)
    out = fn(pt, **lets)
    expected = [tolist(out)]
    lines.append(f"print {expr};")
    if grad:
        w = torch.tensor(rng.uniform(-1, 1, size=tuple(out.shape)))
        (g,) = torch.autograd.grad((out * w).sum(), pt)
        lines.append(f"let w = {lit(w)};")
        lines.append(f"print grad(sum(({expr}) * w), p);")
        expected.append(tolist(g))
    CASES.append({"id": cid, "script": "\n".join(lines) + "\n", "expected": expected})


def activations():
    kinks = torch.tensor([-6.0, -3.0, -1.0, 0.0, 1.0, 3.0, 6.0, 20.0, 25.0])
    acts = {
        "leaky_relu": (F.leaky_relu, "leaky_relu(p)"),
        "leaky_relu-neg": (lambda x: F.leaky_relu(x, -0.5), "leaky_relu(p, negative_slope=-0.5)"),
        "elu": (F.elu, "elu(p)"),
        "elu-2": (lambda x: F.elu(x, alpha=2.0), "elu(p, alpha=2)"),
        "selu": (F.selu, "selu(p)"),
        "celu": (F.celu, "celu(p)"),
        "celu-03": (lambda x: F.celu(x, alpha=0.3), "celu(p, alpha=0.3)"),
        "gelu": (F.gelu, "gelu(p)"),
        "gelu-tanh": (lambda x: F.gelu(x, approximate="tanh"), "gelu(p, approximate=\"tanh\")"),
        "silu": (F.silu, "silu(p)"),
        "mish": (F.mish, "mish(p)"),
        "softplus": (F.softplus, "softplus(p)"),
        "softplus-b": (lambda x: F.softplus(x, beta=0.5, threshold=2), "softplus(p, beta=0.5, threshold=2)"),
        "softplus-b3": (lambda x: F.softplus(x, beta=3), "softplus(p, beta=3)"),
        "hardtanh": (F.hardtanh, "hardtanh(p)"),
        "hardtanh-r": (lambda x: F.hardtanh(x, -3.0, 6.0), "hardtanh(p, min_val=-3, max_val=6)"),
        "relu6": (F.relu6, "relu6(p)"),
        "hardsigmoid": (F.hardsigmoid, "hardsigmoid(p)"),
        "hardswish": (F.hardswish, "hardswish(p)"),
        "logsigmoid": (F.logsigmoid, "logsigmoid(p)"),
        "softsign": (F.softsign, "softsign(p)"),
        "tanhshrink": (F.tanhshrink, "tanhshrink(p)"),
        "erf": (torch.erf, "erf(p)"),
        "erfc": (torch.erfc, "erfc(p)"),
    }
    for name, (fn, expr) in acts.items():
        case(f"act-{name}-kinks", kinks, fn, expr)
        case(f"act-{name}-2x3x2", rand((2, 3, 2), -5, 5), fn, expr)
    case("sp-erfinv-3x2", rand((3, 2), -0.999, 0.999), torch.erfinv, "erfinv(p)")
    case("sp-lgamma", torch.tensor([0.01, 0.3, 1.5, 2.5, 7.0, 33.3, -0.5, -2.5, 150.0]), torch.lgamma, "lgamma(p)")
    case("sp-digamma", torch.tensor([0.01, 0.3, 1.4616321449683622, 2.5, 7.0, 33.3, -0.5, -2.5]), torch.digamma, "digamma(p)")
    case("sp-lgamma-poles", torch.tensor([0.0, -1.0, -2.0]), torch.lgamma, "lgamma(p)", grad=False)
    x = rand((2, 3), 0.1, 3)
    y = rand((3,), 0.1, 3)
    case("sp-xlogy-bcast", x, lambda p, y: torch.xlogy(p, y), "xlogy(p, y)", {"y": y})
    case("sp-xlogy-other", x, lambda p, y: torch.xlogy(y, p), "xlogy(y, p)", {"y": y})
    case("sp-xlogy-zero", torch.tensor([0.0, 0.0, 0.0, 1.0]), lambda p, y: torch.xlogy(p, y),
         "xlogy(p, y)", {"y": torch.tensor([0.0, -1.0, 3.0, 0.5])})
    case("sp-logaddexp-bcast", rand((2, 3), -50, 50), lambda p, y: torch.logaddexp(p, y),
         "logaddexp(p, y)", {"y": rand((3,), -50, 50)})
    case("sp-logaddexp-second", rand((4,)), lambda p, y: torch.logaddexp(y, p),
         "logaddexp(y, p)", {"y": rand((4,))})


def along_axis():
    for shape in [(5,), (3, 4), (2, 3, 4)]:
        x = rand(shape, -4, 4)
        r = len(shape)
        for ax in range(-r, r):
            s = "x".join(map(str, shape))
            case(f"ax-softmax-{s}-{ax}", x, lambda p, ax=ax: F.softmax(p, dim=ax), f"softmax(p, axis={ax})")
            case(f"ax-log_softmax-{s}-{ax}", x, lambda p, ax=ax: F.log_softmax(p, dim=ax), f"log_softmax(p, dim={ax})")
            case(f"ax-logsumexp-{s}-{ax}", x, lambda p, ax=ax: torch.logsumexp(p, dim=ax), f"logsumexp(p, axis={ax})")
        case(f"ax-logsumexp-{s}-all", x, lambda p: torch.logsumexp(p, dim=tuple(range(r))), "logsumexp(p)")
    big = torch.tensor([[1000.0, 1000.0, 0.0], [-1000.0, -1000.0, -999.0], [0.0, -math.inf, 1.0]])
    case("ax-softmax-stable", big, lambda p: F.softmax(p, dim=-1), "softmax(p)")
    case("ax-log_softmax-stable", big, lambda p: F.log_softmax(p, dim=-1), "log_softmax(p)")
    case("ax-logsumexp-stable", big[:2], lambda p: torch.logsumexp(p, dim=1), "logsumexp(p, axis=1)")
    a = torch.tensor([[3.0, 1.0, 3.0, -2.0], [0.5, 0.5, 0.5, 0.5], [-1.0, 4.0, 4.0, -7.0]])
    vals = [torch.argmax(a, dim=1), torch.argmin(a, dim=1), torch.argmax(a, dim=0), torch.argmin(a, dim=-1),
            torch.argmax(a), torch.argmin(a), F.one_hot(torch.tensor([2, 0, 3]), 5),
            F.one_hot(torch.tensor([[1, 0], [2, 1]]))]
    CASES.append({
        "id": "ax-argmax-argmin-one_hot",
        "script": f"let a = {lit(a)};\nprint argmax(a, axis=1), argmin(a, axis=1), argmax(a, dim=0), "
                  "argmin(a, axis=-1), argmax(a), argmin(a), one_hot([2, 0, 3], 5), one_hot([[1, 0], [2, 1]]);\n",
        "expected": [tolist(v.double()) for v in vals],
    })


def losses():
    n, c = 5, 4
    x = rand((n, c))
    t = rand((n, c))
    pairs = {
        "mse_loss": F.mse_loss,
        "l1_loss": F.l1_loss,
        "smooth_l1_loss": F.smooth_l1_loss,
        "huber_loss": F.huber_loss,
    }
    for name, fn in pairs.items():
        for red in ["mean", "sum", "none"]:
            case(f"loss-{name}-{red}", x, lambda p, t, fn=fn, red=red: fn(p, t, reduction=red),
                 f"{name}(p, t, reduction=\"{red}\")", {"t": t})
    case("loss-smooth_l1-beta2", x, lambda p, t: F.smooth_l1_loss(p, t, beta=2.0), "smooth_l1_loss(p, t, beta=2)", {"t": t})
    case("loss-smooth_l1-beta0", x, lambda p, t: F.smooth_l1_loss(p, t, beta=0.0), "smooth_l1_loss(p, t, beta=0)", {"t": t})
    case("loss-huber-delta2", x, lambda p, t: F.huber_loss(p, t, delta=2.0), "huber_loss(p, t, delta=2)", {"t": t})
    kink = torch.tensor([0.0, 1.0, -1.0, 2.0, -2.0, 0.5])
    zero = torch.zeros(6)
    for name, kw, expr in [("smooth_l1_loss", {"beta": 1.0}, "beta=1"), ("huber_loss", {"delta": 2.0}, "delta=2"),
                           ("l1_loss", {}, ""), ("mse_loss", {}, "")]:
        fn = getattr(F, name)
        sep = ", " if expr else ""
        case(f"losskink-{name}", kink, lambda p, t, fn=fn, kw=kw: fn(p, t, **kw), f"{name}(p, t{sep}{expr})", {"t": zero})
    # cross entropy: indices, weights, smoothing, reductions, 1-D and 3-D inputs
    y = torch.tensor([0, 3, 1, 1, 2])
    wt = torch.tensor([1.0, 2.0, 0.5, 3.0])
    for red in ["mean", "sum", "none"]:
        for ls in [0.0, 0.2]:
            for use_w in [False, True]:
                kw = {"reduction": red, "label_smoothing": ls}
                opts = f", reduction=\"{red}\", label_smoothing={ls}"
                lets = {"y": y.double()}
                if use_w:
                    kw["weight"] = wt
                    opts += ", weight=cw"
                    lets["cw"] = wt
                cid = f"ce-{red}-ls{ls}-{'w' if use_w else 'nw'}"
                case(cid, x, lambda p, y, cw=None, kw=kw: F.cross_entropy(p, y.long(), **kw),
                     f"cross_entropy(p, y{opts})", lets)
    probs = F.softmax(rand((n, c)), dim=1)
    for red in ["mean", "sum", "none"]:
        case(f"ce-probs-{red}-w", x, lambda p, q, cw, red=red: F.cross_entropy(p, q, weight=cw, reduction=red, label_smoothing=0.1),
             f"cross_entropy(p, q, weight=cw, reduction=\"{red}\", label_smoothing=0.1)", {"q": probs, "cw": wt})
    case("ce-1d", rand((c,)), lambda p, y: F.cross_entropy(p, y.long()), "cross_entropy(p, y)", {"y": torch.tensor(2.0)})
    x3 = rand((2, 3, 4))
    y3 = torch.tensor([[0, 2, 1, 1], [2, 2, 0, 1]])
    case("ce-3d", x3, lambda p, y: F.cross_entropy(p, y.long(), label_smoothing=0.1), "cross_entropy(p, y, label_smoothing=0.1)", {"y": y3.double()})
    case("nll-3d-w", x3, lambda p, y, cw: F.nll_loss(p, y.long(), weight=cw), "nll_loss(p, y, weight=cw)",
         {"y": y3.double(), "cw": torch.tensor([0.2, 1.0, 3.0])})
    case("nll-sum", x, lambda p, y: F.nll_loss(p, y.long(), reduction="sum"), "nll_loss(p, y, reduction=\"sum\")", {"y": y.double()})
    # binary cross entropy
    pr = torch.tensor(rng.uniform(0.02, 0.98, size=(3, 4)))
    tg = torch.tensor(rng.uniform(0, 1, size=(3, 4)))
    bw = torch.tensor(rng.uniform(0.5, 2, size=(4,)))
    for red in ["mean", "sum", "none"]:
        case(f"bce-{red}-w", pr, lambda p, t, bw, red=red: F.binary_cross_entropy(p, t, weight=bw, reduction=red),
             f"binary_cross_entropy(p, t, weight=bw, reduction=\"{red}\")", {"t": tg, "bw": bw})
        case(f"bcel-{red}", x, lambda p, t, red=red: F.binary_cross_entropy_with_logits(p, t, reduction=red),
             f"binary_cross_entropy_with_logits(p, t, reduction=\"{red}\")", {"t": torch.sigmoid(t)})
    case("bce-edges", torch.tensor([0.0, 1.0, 0.5, 1e-50]), lambda p, t: F.binary_cross_entropy(p, t, reduction="none"),
         "binary_cross_entropy(p, t, reduction=\"none\")", {"t": torch.tensor([0.0, 1.0, 0.5, 0.0])})
    case("bcel-w-pos", x, lambda p, t, bw, pw: F.binary_cross_entropy_with_logits(p, t, weight=bw, pos_weight=pw),
         "binary_cross_entropy_with_logits(p, t, weight=bw, pos_weight=pw)",
         {"t": torch.sigmoid(t), "bw": torch.tensor([1.0, 0.5, 2.0, 1.5]), "pw": torch.tensor([3.0, 0.5, 1.0, 2.0])})
    # kl_div, poisson, gaussian, cosine
    lq = F.log_softmax(rand((n, c)), dim=1)
    for red in ["mean", "sum", "none", "batchmean"]:
        case(f"kl-{red}", F.log_softmax(x, dim=1), lambda p, q, red=red: F.kl_div(p, q, reduction=red),
             f"kl_div(p, q, reduction=\"{red}\")", {"q": lq.exp()})
        case(f"kl-log-{red}", x, lambda p, q, red=red: F.kl_div(p, q, reduction=red, log_target=True),
             f"kl_div(p, q, reduction=\"{red}\", log_target=true)", {"q": lq})
    k = torch.tensor(rng.integers(0, 9, size=(3, 4))).double()
    for full in [False, True]:
        for log_input in [True, False]:
            base = rand((3, 4), -1, 2) if log_input else torch.tensor(rng.uniform(0.1, 6, size=(3, 4)))
            case(f"poisson-{log_input}-{full}", base,
                 lambda p, k, li=log_input, fu=full: F.poisson_nll_loss(p, k, log_input=li, full=fu),
                 f"poisson_nll_loss(p, k, log_input={str(log_input).lower()}, full={str(full).lower()})", {"k": k})
    case("poisson-sum-eps", torch.tensor([0.0, 0.5, 2.0]), lambda p, k: F.poisson_nll_loss(p, k, log_input=False, eps=0.1, reduction="sum"),
         "poisson_nll_loss(p, k, log_input=false, eps=0.1, reduction=\"sum\")", {"k": torch.tensor([0.0, 1.0, 4.0])})
    mu = rand((4, 3))
    tt = rand((4, 3))
    var = torch.tensor(rng.uniform(0.2, 3, size=(4, 3)))
    for full in [False, True]:
        for red in ["mean", "sum", "none"]:
            case(f"gauss-{full}-{red}", mu, lambda p, t, v, fu=full, red=red: F.gaussian_nll_loss(p, t, v, full=fu, reduction=red),
                 f"gaussian_nll_loss(p, t, v, full={str(full).lower()}, reduction=\"{red}\")", {"t": tt, "v": var})
    case("gauss-var-grad", var, lambda p, m, t: F.gaussian_nll_loss(m, t, p), "gaussian_nll_loss(m, t, p)", {"m": mu, "t": tt})
    case("gauss-var-small", torch.tensor([1e-9, 0.5, 2e-7]), lambda p, m, t: F.gaussian_nll_loss(m, t, p, eps=1e-6),
         "gaussian_nll_loss(m, t, p)", {"m": torch.tensor([0.1, 0.2, 0.3]), "t": torch.tensor([0.0, 0.0, 1.0])})
    case("gauss-var-homo", mu, lambda p, t, v: F.gaussian_nll_loss(p, t, v), "gaussian_nll_loss(p, t, v)",
         {"t": tt, "v": torch.tensor([[0.5], [1.0], [2.0], [0.7]])})
    case("gauss-var-one-less", mu, lambda p, t, v: F.gaussian_nll_loss(p, t, v), "gaussian_nll_loss(p, t, v)",
         {"t": tt, "v": torch.tensor([0.5, 1.0, 2.0, 0.7])})
    for ax in [0, 1, -1]:
        case(f"cos-{ax}", x, lambda p, t, ax=ax: F.cosine_similarity(p, t, dim=ax), f"cosine_similarity(p, t, axis={ax})", {"t": t})
    case("cos-bcast", x, lambda p, t: F.cosine_similarity(p, t, dim=1), "cosine_similarity(p, t)", {"t": t[0]})
    case("cos-eps", torch.tensor([[1e-9, 0.0], [3.0, 4.0]]), lambda p, t: F.cosine_similarity(p, t, dim=1, eps=1e-3),
         "cosine_similarity(p, t, eps=0.001)", {"t": torch.tensor([[1.0, 1.0], [1.0, 0.0]])})


def special_points():
    def sweep(lo, hi, n):
        return list(np.linspace(lo, hi, n))

    tiny = list(np.logspace(-300, -1, 60))
    grid = {
        "erf": sweep(-6, 6, 601) + tiny + [-v for v in tiny] + [10.0, 27.0, -27.0],
        "erfc": sweep(-6, 27, 1001) + tiny,
        "erfinv": sweep(-0.999999, 0.999999, 801) + tiny + [-v for v in tiny]
        + [1 - 10.0 ** -k for k in range(1, 16)] + [-1 + 10.0 ** -k for k in range(1, 16)],
        "lgamma": list(np.logspace(-300, 300, 400)) + sweep(0.001, 20, 800)
        + [-(k + f) for k in range(0, 30) for f in (0.1, 0.25, 0.5, 0.9)],
        "digamma": list(np.logspace(-12, 15, 300)) + sweep(0.01, 20, 800)
        + [-(k + f) for k in range(0, 30) for f in (0.1, 0.25, 0.5, 0.9)],
        "trigamma": list(np.logspace(-8, 10, 300)) + sweep(0.01, 20, 400)
        + [-(k + f) for k in range(0, 10) for f in (0.1, 0.25, 0.5, 0.9)],
    }
    fns = {
        "erf": torch.erf,
        "erfc": torch.erfc,
        "erfinv": torch.erfinv,
        "lgamma": torch.lgamma,
        "digamma": torch.digamma,
        "trigamma": lambda t: torch.polygamma(1, t),
    }
    out = {}
    for name, xs in grid.items():
        xt = torch.tensor(xs)
        out[name] = {"x": [num(v) for v in xs], "y": [num(v) for v in fns[name](xt).tolist()]}
    a = torch.tensor(rng.uniform(-30, 30, 500).tolist() + [0.0, 0.0, 0.0, 2.0])
    b = torch.tensor(rng.uniform(1e-3, 30, 500).tolist() + [0.0, -1.0, 5.0, 0.0])
    out["xlogy"] = {"x": [num(v) for v in a.tolist()], "x2": [num(v) for v in b.tolist()],
                    "y": [num(v) for v in torch.xlogy(a, b).tolist()]}
    c = torch.tensor(rng.uniform(-800, 800, 500).tolist() + [math.inf, -math.inf, -math.inf, 3.0])
    d = torch.tensor(rng.uniform(-800, 800, 500).tolist() + [math.inf, -math.inf, 2.0, math.inf])
    out["logaddexp"] = {"x": [num(v) for v in c.tolist()], "x2": [num(v) for v in d.tolist()],
                        "y": [num(v) for v in torch.logaddexp(c, d).tolist()]}
    return out


def main():
    activations()
    along_axis()
    losses()
    gen = f"gen_functional_extra.py (torch {torch.__version__})"
    with open(os.path.join(HERE, "functional_extra.json"), "w") as fh:
        json.dump({"generator": gen, "cases": CASES}, fh, indent=1)
    with open(os.path.join(HERE, "special.json"), "w") as fh:
        json.dump({"generator": gen, "functions": special_points()}, fh)
    print(f"{len(CASES)} cases")


if __name__ == "__main__":
    main()
