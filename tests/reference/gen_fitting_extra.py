"""iminuit 2.33's verdicts on fits losslang must judge the same way: the
printed report after each statement (migrad, hesse, minos), whether MINOS
refused, and the points of contours. Writes fitting_extra.json next to this
file; tests/reference_fitting.rs runs every case.

Each case: `script` (losslang), `objective` (the same expression in Python
syntax over the parameters), `stages` (iminuit's `print(m)` after each
statement, `exact` when the tables must match byte for byte, `flags` when
only the function-minimum box's flag rows are compared), `refuse` (the
statement iminuit refused, with its message), `autograd` (what the same
script with the exact gradient must share with iminuit) and, for contours,
iminuit's points.
"""

import json
import math
import os
import warnings

import iminuit
from iminuit import Minuit

warnings.simplefilter("ignore")

HERE = os.path.dirname(os.path.abspath(__file__))


def pyexpr(expr):
    return expr.replace("^", "**")


def make_fcn(names, expr):
    code = compile(pyexpr(expr), "<objective>", "eval")
    env = {"exp": math.exp, "log": math.log, "sqrt": math.sqrt, "sin": math.sin, "floor": math.floor}

    def fcn(*xs):
        return eval(code, env, dict(zip(names, xs)))

    return fcn


def param_lines(params):
    out = []
    for p in params:
        line = f"param {p['name']} = {p['value']!r}"
        if "step" in p:
            line += f" step {p['step']!r}"
        if "limits" in p:
            lo, hi = p["limits"]
            lo = "-inf" if lo is None else repr(lo)
            hi = "inf" if hi is None else repr(hi)
            line += f" in [{lo}, {hi}]"
        if p.get("fixed"):
            line += " fixed"
        out.append(line + ";")
    return out


def minuit_of(params, expr, errordef):
    names = [p["name"] for p in params]
    m = Minuit(make_fcn(names, expr), *[p["value"] for p in params], name=names)
    m.errordef = errordef
    for p in params:
        if "step" in p:
            m.errors[p["name"]] = p["step"]
        if "limits" in p:
            m.limits[p["name"]] = tuple(p["limits"])
        if p.get("fixed"):
            m.fixed[p["name"]] = True
    return m


def case(cid, params, expr, steps, errordef=1.0, options="", mode="exact", autograd="flags", note=""):
    """Runs `steps` (migrad / hesse / minos / contour x y cl n / scan n) in
    iminuit and records what it printed after each."""
    m = minuit_of(params, expr, errordef)
    opts = 'grad="numeric"' + (", " + options if options else "")
    if errordef != 1.0:
        opts += f", errordef={errordef!r}"
    lines = param_lines(params)
    stages, refuse, contour = [], None, None
    for st in steps:
        kind = st[0]
        if kind == "migrad":
            ncall = st[1] if len(st) > 1 else None
            if ncall is not None:
                m.migrad(ncall=ncall)
                lines.append(f"minimize {expr} with migrad({opts}, ncall={ncall});")
            else:
                m.migrad()
                lines.append(f"minimize {expr} with migrad({opts});")
        elif kind == "scan":
            # losslang's n is points per free parameter, iminuit's ncall the total
            m.scan(ncall=st[1] ** m.nfit)
            o = f"n={st[1]}" + (f", errordef={errordef!r}" if errordef != 1.0 else "")
            lines.append(f"minimize {expr} with scan({o});")
        elif kind == "hesse":
            m.hesse()
            lines.append("hesse;")
        elif kind == "minos":
            lines.append("minos;")
            try:
                m.minos()
            except RuntimeError as e:
                refuse = {"line": len(lines), "message": str(e).split(":")[0]}
                break
        elif kind == "contour":
            _, a, b, cl, n = st
            lines.append(f"contour {a}, {b} cl={cl!r} points={n};")
            try:
                pts = m.mncontour(a, b, cl=cl, size=n)
                contour = {"x": a, "y": b, "cl": cl, "points": [list(map(float, p)) for p in pts]}
            except RuntimeError as e:
                refuse = {"line": len(lines), "message": str(e).split(":")[0]}
                break
        stages.append({"stage": kind, "report": str(m), "mode": mode})
    out = {
        "id": cid,
        "script": "\n".join(lines) + "\n",
        "params": [p["name"] for p in params],
        "objective": pyexpr(expr),
        "errordef": errordef,
        "stages": stages,
        "valid": bool(m.fmin.is_valid) if m.fmin else None,
        "fval": float(m.fval) if m.fmin else None,
        "nfcn": int(m.fmin.nfcn) if m.fmin else None,
    }
    # with the exact gradient: "flags" (the same verdict: the function-minimum
    # box's flag rows as iminuit's at every stage) or "none" (another path)
    out["autograd"] = autograd
    if refuse:
        out["refuse"] = refuse
    if contour:
        out["contour"] = contour
    if note:
        out["note"] = note
    return out


def linear_rank1_zero(n=5, m=10):
    # MGH problem 34: the matrix's first and last columns are zero, so x1 and
    # xn do not change the function
    inner = " + ".join(f"{j if 1 < j < n else 0}*x{j}" for j in range(1, n + 1))
    terms = ["(-1)^2", "(-1)^2"]
    for i in range(2, m):
        terms.append(f"({i - 1}*({inner}) - 1)^2")
    params = [{"name": f"x{j}", "value": 1.0} for j in range(1, n + 1)]
    return params, " + ".join(terms)


def gaussian():
    # MGH problem 9
    y = [0.0009, 0.0044, 0.0175, 0.0540, 0.1295, 0.2420, 0.3521, 0.3989,
         0.3521, 0.2420, 0.1295, 0.0540, 0.0175, 0.0044, 0.0009]
    terms = []
    for i in range(1, 16):
        t = (8 - i) / 2
        terms.append(f"(a*exp(-b*({t!r} - c)^2/2) - {y[i - 1]!r})^2")
    params = [{"name": "a", "value": 0.4}, {"name": "b", "value": 1.0}, {"name": "c", "value": 0.0}]
    return params, " + ".join(terms)


def chebyquad(n=6):
    # MGH problem 35 on [0, 1]: shifted Chebyshev polynomials T_i(2x - 1)
    cheb = {
        1: "u", 2: "2*u^2 - 1", 3: "4*u^3 - 3*u", 4: "8*u^4 - 8*u^2 + 1",
        5: "16*u^5 - 20*u^3 + 5*u", 6: "32*u^6 - 48*u^4 + 18*u^2 - 1",
    }
    terms = []
    for i in range(1, n + 1):
        s = " + ".join("(" + cheb[i].replace("u", f"(2*x{j} - 1)") + ")" for j in range(1, n + 1))
        yi = 0.0 if i % 2 else -1.0 / (i * i - 1)
        terms.append(f"(({s})/{n} - ({yi!r}))^2")
    params = [{"name": f"x{j}", "value": j / (n + 1)} for j in range(1, n + 1)]
    return params, " + ".join(terms)


def main():
    cases = []
    himmel = "(x^2 + y - 11)^2 + (x + y^2 - 7)^2"
    cases.append(case("neg-x2", [{"name": "x", "value": 1.0}], "-x^2",
                      [("migrad",), ("hesse",), ("minos",)],
                      note="seed matrix not pos. def.; HESSE's EDM above 10 x goal; MINOS refused"))
    p, e = linear_rank1_zero()
    cases.append(case("mgh-linear-rank1-zero", p, e, [("migrad",), ("hesse",), ("minos",)],
                      note="x1 and x5 have zero curvature: INVALID, Hesse FAILED, errors 0"))
    cases.append(case("rosenbrock-call-limit", [{"name": "x", "value": -1.2}, {"name": "y", "value": 1.0}],
                      "100*(y - x^2)^2 + (1 - x)^2", [("migrad", 30), ("hesse",)], autograd="none",
                      note="HESSE after a MIGRAD that hit its call limit: EDM recomputed"))
    p, e = gaussian()
    cases.append(case("mgh-gaussian", p, e, [("migrad",), ("hesse",)],
                      note="MIGRAD takes at least one step from a start below the EDM goal"))
    p, e = chebyquad()
    cases.append(case("mgh-chebyquad6", p, e, [("migrad",), ("hesse",)], mode="masked"))
    grid = [{"name": "x", "value": 1.0, "limits": [0.0, 9.0]}, {"name": "y", "value": 1.0, "limits": [0.0, 9.0]}]
    cases.append(case("scan-grid", grid, "(x - 3.2)^2 + (y - 6.1)^2 + 0.5*x*y",
                      [("scan", 10), ("hesse",)], mode="masked",
                      note="a grid needs no gradient; a point inside the limits is not at a limit"))
    s = "sin(12.9898*x + 78.233*y + 1)*43758.5453"
    cases.append(case("scan-table", [{"name": "x", "value": 0.0, "limits": [0.0, 9.0]},
                                     {"name": "y", "value": 0.0, "limits": [0.0, 9.0]}],
                      f"floor(2001*({s} - floor({s}))) - 1000", [("scan", 10)], mode="exact",
                      note="examples/minimum-search.loss: a table without a gradient to follow"))
    cases.append(case("contour-at-limit",
                      [{"name": "x", "value": 1.0, "limits": [0.0, 2.0]}, {"name": "y", "value": 1.0}],
                      "(x - 0.3)^2/0.04 + (y - 1)^2 + 0.5*(x - 0.3)*(y - 1)/0.2",
                      [("migrad",), ("hesse",), ("contour", "x", "y", 0.95, 24)], mode="masked",
                      note="a contour that crosses a limit stays inside it"))
    cases.append(case("three-params-fixed-onesided",
                      [{"name": "a", "value": 1.0, "limits": [0.0, None]},
                       {"name": "b", "value": 0.5, "fixed": True},
                       {"name": "c", "value": 2.0, "limits": [None, 5.0]},
                       {"name": "d", "value": 0.1, "step": 0.05}],
                      "(a - 2)^2 + (a*b - c + 1)^2/0.5 + (d - 0.3*c)^2*4 + 0.1*a*d",
                      [("migrad",), ("hesse",), ("minos",)], mode="masked"))
    cases.append(case("himmelblau-likelihood", [{"name": "x", "value": 1.0, "limits": [0.0, None]},
                                                 {"name": "y", "value": 1.0, "limits": [None, 3.0]}],
                      himmel, [("migrad",), ("hesse",), ("minos",)], errordef=0.5, mode="exact"))
    out = {"generator": f"gen_fitting_extra.py, iminuit {iminuit.__version__}", "cases": cases}
    with open(os.path.join(HERE, "fitting_extra.json"), "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
