"""Reference data for losslang's SIMPLEX, SCAN and text report.

Run with iminuit installed (generated with iminuit 2.33.0):

    python gen_minuit_extra.py

Writes
  tests/reference/minuit_extra.json        simplex and scan results
  src/minuit/testdata/report_golden.json   iminuit's text report strings

Non-finite floats are written as the strings "nan", "inf", "-inf".
"""

import json
import math
import random
from argparse import Namespace
from pathlib import Path

import iminuit
from iminuit import Minuit
from iminuit import _repr_text as rt
from iminuit.util import Matrix

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def enc(x):
    if isinstance(x, float):
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return x
    if isinstance(x, (list, tuple)):
        return [enc(v) for v in x]
    if isinstance(x, dict):
        return {k: enc(v) for k, v in x.items()}
    return x


# --------------------------------------------------------------------------
# objectives (keep in sync with the Rust tests)

def himmelblau(x, y):
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def beale(x, y):
    return (
        (1.5 - x + x * y) ** 2
        + (2.25 - x + x * y**2) ** 2
        + (2.625 - x + x * y**3) ** 2
    )


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def quad3(a, b, c):
    return (a - 1) ** 2 + 2 * (b + 0.5) ** 2 + 0.5 * (c - 2) ** 2 + 0.3 * a * b


FUNCS = {
    "himmelblau": (himmelblau, ("x", "y")),
    "beale": (beale, ("x", "y")),
    "rosenbrock": (rosenbrock, ("x", "y")),
    "quad3": (quad3, ("a", "b", "c")),
}


def make(case):
    f, names = FUNCS[case["function"]]
    m = Minuit(f, **dict(zip(names, case["start"])))
    m.errordef = case.get("errordef", 1.0)
    if "limits" in case:
        m.limits = [tuple(l) if l is not None else (None, None) for l in case["limits"]]
    if "fixed" in case:
        m.fixed = case["fixed"]
    if "tol" in case:
        m.tol = case["tol"]
    return m, names


def params_of(m, names):
    out = []
    for i, n in enumerate(names):
        lo, up = m.limits[i]
        out.append(
            {
                "name": n,
                "value": float(m.values[i]),
                "error": float(m.errors[i]),
                "lower": None if lo == -math.inf else float(lo),
                "upper": None if up == math.inf else float(up),
                "fixed": bool(m.fixed[i]),
            }
        )
    return out


def fmin_of(m, names):
    fm = m.fmin
    return {
        "fval": fm.fval,
        "edm": fm.edm,
        "edm_goal": fm.edm_goal,
        "nfcn": fm.nfcn,
        "valid": fm.is_valid,
        "above_max_edm": fm.is_above_max_edm,
        "call_limit": fm.has_reached_call_limit,
        "at_limit": fm.has_parameters_at_limit,
        "values": [float(v) for v in m.values],
        "errors": [float(v) for v in m.errors],
        "text": str(fm).replace(f"time = {fm.time:.1f} sec", "").rstrip(),
        "params_text": str(m.params),
    }


SIMPLEX_CASES = [
    {"id": "himmelblau-origin", "function": "himmelblau", "start": [0.0, 0.0]},
    {"id": "himmelblau-minus2", "function": "himmelblau", "start": [-2.0, 0.0]},
    {"id": "himmelblau-tol", "function": "himmelblau", "start": [0.0, 0.0], "tol": 1e-4},
    {"id": "himmelblau-nll", "function": "himmelblau", "start": [0.0, 0.0], "errordef": 0.5},
    {
        "id": "himmelblau-limits",
        "function": "himmelblau",
        "start": [1.0, 1.0],
        "limits": [[0.0, 2.5], None],
    },
    {
        "id": "himmelblau-lower",
        "function": "himmelblau",
        "start": [1.0, 1.0],
        "limits": [[0.5, None], [None, 1.5]],
    },
    {"id": "himmelblau-fixed", "function": "himmelblau", "start": [1.0, 1.0], "fixed": [False, True]},
    {"id": "himmelblau-ncall", "function": "himmelblau", "start": [0.0, 0.0], "ncall": 20},
    {"id": "beale", "function": "beale", "start": [1.0, 1.5]},
    {"id": "rosenbrock", "function": "rosenbrock", "start": [-1.0, 1.0]},
    {"id": "rosenbrock-tol", "function": "rosenbrock", "start": [-1.0, 1.0], "tol": 1e-6},
    {"id": "quad3", "function": "quad3", "start": [0.0, 0.0, 0.0]},
]

SCAN_CASES = [
    {
        "id": "himmelblau-box",
        "function": "himmelblau",
        "start": [0.0, 0.0],
        "limits": [[-5.0, 5.0], [-5.0, 5.0]],
        "n": 10,
    },
    {
        "id": "himmelblau-box-default",
        "function": "himmelblau",
        "start": [0.0, 0.0],
        "limits": [[-5.0, 5.0], [-5.0, 5.0]],
        "n": None,
    },
    {
        "id": "himmelblau-box-41",
        "function": "himmelblau",
        "start": [0.0, 0.0],
        "limits": [[0.0, 4.0], [0.0, 4.0]],
        "n": 41,
    },
    {
        "id": "himmelblau-fixed",
        "function": "himmelblau",
        "start": [1.0, 2.0],
        "limits": [[0.0, 4.0], None],
        "fixed": [False, True],
        "n": 9,
    },
    {
        "id": "quad3",
        "function": "quad3",
        "start": [0.0, 0.0, 0.0],
        "limits": [[-2.0, 2.0], [-2.0, 2.0], [0.0, 4.0]],
        "n": 5,
    },
]


def gen_minuit_extra():
    out = {"generator": f"iminuit {iminuit.__version__}", "simplex": [], "scan": []}
    for case in SIMPLEX_CASES:
        m, names = make(case)
        init = params_of(m, names)
        m.simplex(ncall=case.get("ncall"))
        r = dict(case)
        r["params"] = init
        r["result"] = fmin_of(m, names)
        out["simplex"].append(r)
    for case in SCAN_CASES:
        m, names = make(case)
        init = params_of(m, names)
        nfree = sum(1 for f in m.fixed if not f)
        if case["n"] is None:
            ncall = None
            nstep = max(2, int((200 + 100 * nfree + 5 * nfree**2) ** (1 / nfree)))
        else:
            # iminuit takes a call budget; pick one that gives n steps
            ncall = case["n"] ** nfree
            nstep = max(2, int(ncall ** (1 / nfree)))
            if nstep != case["n"]:
                ncall = case["n"] ** nfree + 1
                nstep = max(2, int(ncall ** (1 / nfree)))
            assert nstep == case["n"], (nstep, case)
        m.scan(ncall)
        r = dict(case)
        r["n"] = nstep
        r["params"] = init
        r["result"] = fmin_of(m, names)
        out["scan"].append(r)
    path = HERE / "minuit_extra.json"
    path.write_text(json.dumps(enc(out), indent=1) + "\n")


# --------------------------------------------------------------------------
# report goldens

def fmin_ns(**kw):
    base = dict(
        algorithm="Migrad",
        fval=1.23456e-10,
        reduced_chi2=math.nan,
        nfcn=10,
        ngrad=0,
        ng2=0,
        nhessian=0,
        edm=1.23456e-10,
        edm_goal=0.0002,
        time=0.0,
        is_valid=True,
        is_above_max_edm=False,
        has_parameters_at_limit=False,
        has_reached_call_limit=False,
        hesse_failed=False,
        has_covariance=True,
        has_accurate_covar=True,
        has_posdef_covar=True,
        has_made_posdef_covar=False,
    )
    base.update(kw)
    return base


FMIN_CASES = [
    fmin_ns(),
    fmin_ns(ngrad=3, nfcn=123),
    fmin_ns(
        algorithm="Simplex",
        fval=math.nan,
        nfcn=100000,
        ngrad=200000,
        edm_goal=1e-5,
        is_valid=False,
        is_above_max_edm=True,
        has_parameters_at_limit=True,
        has_reached_call_limit=True,
        hesse_failed=True,
        has_covariance=False,
        has_accurate_covar=False,
        has_posdef_covar=False,
        has_made_posdef_covar=True,
    ),
    fmin_ns(hesse_failed=True, has_reached_call_limit=False, has_posdef_covar=True),
    fmin_ns(hesse_failed=True, has_posdef_covar=False),
    fmin_ns(has_accurate_covar=False, has_made_posdef_covar=True),
    fmin_ns(has_accurate_covar=False),
    fmin_ns(algorithm="Scan", has_covariance=False, fval=4.506934918457534, edm=4.84, edm_goal=0.1),
    fmin_ns(fval=-123456789.0, edm=0.0, edm_goal=2e-4),
]


def param_ns(name, value, error, merror=None, lower=None, upper=None, fixed=False):
    return dict(
        name=name, value=value, error=error, merror=merror, lower=lower, upper=upper, fixed=fixed
    )


def render_params(rows):
    mps = [
        Namespace(
            name=r["name"],
            value=r["value"],
            error=r["error"],
            merror=r["merror"],
            lower_limit=r["lower"],
            upper_limit=r["upper"],
            is_fixed=r["fixed"],
            is_const=False,
        )
        for r in rows
    ]
    return rt.params(mps)


PARAM_CASES = [
    [param_ns("x", 2.999956530631724, 0.17926876364450897), param_ns("y", 2.0000728063904454, 0.2644548196688126)],
    [param_ns("x", 2.0, 1.0, (-1.0, 1.0)), param_ns("y", 1.0, 0.5, (-0.5, 0.5))],
    [param_ns("x", 3.0, 0.2, None, 0.0, None, True), param_ns("y", 5.0, 0.1, None, 0.0, 10.0)],
    [param_ns("super-long-name", 0.0, 0.0)],
    [param_ns("x", -1.234567e-22, 1.234567e-11)],
    [param_ns("amp", 12345.678, 23.4, (-25.1, 22.0), 0.0, 1e6)],
    [param_ns(f"p{i}", (i - 5) * 0.3721, 0.01 * (i + 1)) for i in range(11)],
    [param_ns("mu", 1e-7, 3e-9, None, -1e-6, 2.5e-6), param_ns("s", 1e8, 2e6, (-3e6, 1.5e6))],
]


def render_merrors(rows):
    mes = {
        r["name"]: Namespace(**r)
        for r in rows
    }
    return rt.merrors(mes)


def merror_ns(name, lower, upper, **flags):
    d = dict(
        name=name,
        lower=lower,
        upper=upper,
        lower_valid=True,
        upper_valid=True,
        at_lower_limit=False,
        at_upper_limit=False,
        at_lower_max_fcn=False,
        at_upper_max_fcn=False,
        lower_new_min=False,
        upper_new_min=False,
    )
    d.update(flags)
    return d


MERROR_CASES = [
    [merror_ns("x", -1.0, 1.0), merror_ns("y", -0.5, 0.5)],
    [merror_ns("x", -0.17562, 0.18315, upper_valid=False, at_upper_limit=True)],
    [
        merror_ns("alpha", -1.2e-5, 3.4e-5, lower_new_min=True, at_lower_max_fcn=True),
        merror_ns("b", -1234.5, 987.0, lower_valid=False),
        merror_ns("c", math.nan, 0.3),
    ],
]


MATRIX_CASES = [
    (["x", "y"], [[1.0, -0.0], [-0.0, 0.25]]),
    (["x"], [[1.0]]),
    (["x", "y", "z"], [[1, 2, 3], [4, 5, 6], [7, 8, 9]]),
    (["super-long-name", "x"], [[1.0, 0.1], [0.1, 1.0]]),
    (["x", "y"], [[-1.23456, 0], [0, 0]]),
    (["x", "y"], [[0.03213728961863082, -0.018902926084906194], [-0.018902926084906194, 0.06993635164606421]]),
    (["a", "b", "c"], [[2.5e-3, 1e-4, -3e-2], [1e-4, 4e2, 7.0], [-3e-2, 7.0, 1.0]]),
]


def render_matrix(names, data):
    m = Matrix(tuple(names))
    m[:] = data
    return str(m)


def render_correlation(names, data):
    m = Matrix(tuple(names))
    m[:] = data
    return str(m.correlation())


def gen_report():
    rng = random.Random(12345)
    pdg = []
    special = [0.0, -0.0, math.nan, math.inf, -math.inf]
    for _ in range(1200):
        k = rng.choice([1, 1, 1, 2, 3])
        scale = 10 ** rng.uniform(-14, 14)
        v = rng.choice([1, -1]) * scale * rng.uniform(0.5, 5000)
        if rng.random() < 0.05:
            v = rng.choice(special)
        errs = []
        for _ in range(k):
            e = scale * 10 ** rng.uniform(-5, 3)
            r = rng.random()
            if r < 0.1:
                # the PDG rule's boundaries
                e = rng.choice([0.0999, 0.1, 0.354, 0.3549, 0.355, 0.3551, 0.949, 0.95, 0.9501, 0.999, 1.0]) * 10 ** rng.randint(-10, 10)
            elif r < 0.15:
                e = rng.choice(special)
            if rng.random() < 0.2:
                e = -e
            errs.append(e)
        use_value = rng.random() > 0.1
        s = rt.pdg_format(v if use_value else None, *errs)
        pdg.append([v if use_value else None, errs, s])
    pdg.append([1.0, [0.0, 0.25], rt.pdg_format(1.0, 0.0, 0.25)])
    pdg.append([None, [-1.0, 1.0], rt.pdg_format(None, -1.0, 1.0)])
    g = []
    for _ in range(600):
        x = rng.choice([1, -1]) * 10 ** rng.uniform(-12, 18)
        if rng.random() < 0.1:
            x = round(x, rng.randint(0, 4))
        p = rng.choice([3, 4, 6])
        g.append([x, p, format(x, f".{p}g")])
    for x in [0.0, -0.0, 9.9995, 99999.5, 999999.5, 0.00010, 0.000099999, 1e16, 123.0]:
        for p in (3, 4, 6):
            g.append([x, p, format(x, f".{p}g")])

    out = {
        "generator": f"iminuit {iminuit.__version__}",
        "pdg": pdg,
        "g": g,
        "fmin": [dict(c, text=rt.fmin(Namespace(**c))) for c in FMIN_CASES],
        "params": [
            {"rows": [dict(r, merror=list(r["merror"]) if r["merror"] else None) for r in rows], "text": render_params(rows)}
            for rows in PARAM_CASES
        ],
        "merrors": [{"rows": rows, "text": render_merrors(rows)} for rows in MERROR_CASES],
        "matrix": [{"names": n, "data": d, "text": render_matrix(n, d)} for (n, d) in MATRIX_CASES],
        "correlation": [
            {"names": n, "data": d, "text": render_correlation(n, d)} for (n, d) in MATRIX_CASES
        ],
    }
    path = ROOT / "src" / "minuit" / "testdata" / "report_golden.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(enc(out), indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    gen_report()
    gen_minuit_extra()
