#!/usr/bin/env python3
"""Reference values for losslang's tensors (SPEC section 6) from PyTorch, float64.

    /path/to/venv/bin/python tests/reference/gen_tensor.py

writes, beside this file,
  tensor.json  cases {id, script, expected}: `expected` lists every value the
               script prints, in order (tensors as nested lists, non-finite
               numbers as "inf"/"-inf"/"nan"); check with
               python3 /work/shared/tools/refcheck.py tensor tests/reference/tensor.json
  fit.json     cases {id, script, path: [{loss, params: {w: [...]}}]} of
               vector-parameter fits followed step by step (path[k] = state
               before step k+1); check with refcheck.py's `fit` kind.

Each case pairs a .loss script with a hand-written torch function computing
the same thing. Conventions (SPEC 4 and 6 -> torch):
  sum/mean/prod(a[, axis=k])  -> torch.sum/mean/prod(a[, dim=k])
  var/std(a[, axis=k])        -> torch.var/std(a[, dim=k], correction=0)
  min/max(a[, axis=k])        -> torch.amin/amax (ties split the gradient evenly)
  norm(a[, axis=k])           -> torch.linalg.vector_norm (2-norm; Frobenius for all)
  min/max(a, b)               -> torch.minimum/maximum
  a @ b                       -> torch.matmul;  dot -> torch.dot
  reshape/transpose           -> torch.reshape / .T (2-D)
  linspace(a, b, n)           -> torch.linspace; arange(a, b, step=s) -> torch.arange
  grad(E, w)                  -> torch.autograd.grad(E, w)
No random functions are used.
"""
import json
import math
import sys
from pathlib import Path

import torch

torch.set_default_dtype(torch.float64)
F64 = torch.float64


def T(v):
    return torch.tensor(v, dtype=F64)


def P(v):
    return torch.tensor(v, dtype=F64, requires_grad=True)


def G(expr, w):
    (g,) = torch.autograd.grad(expr, w)
    return g


def var(a, **kw):
    return torch.var(a, correction=0, **kw)


def std(a, **kw):
    return torch.std(a, correction=0, **kw)


def norm(a, **kw):
    return torch.linalg.vector_norm(a, **kw)


def enc(v):
    if isinstance(v, torch.Tensor):
        v = v.detach().tolist()
    if isinstance(v, (list, tuple)):
        return [enc(x) for x in v]
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


CASES = []


def case(id, script):
    """Decorator: the function returns the printed values of `script`."""
    def deco(fn):
        CASES.append((id, script.strip() + "\n", fn))
        return fn
    return deco


# ------------------------------------------------------------ broadcasting

@case("broadcast-vector-scalar", """
print [1, 2, 3] + 2, [1, 2, 3] * [4, 5, 6], 2 - [1, 2, 3], [1, 2, 3] / 4, [1, 2, 3]^2, -[1, 2, 3];
""")
def _():
    a = T([1, 2, 3])
    return [a + 2, a * T([4, 5, 6]), 2 - a, a / 4, a ** 2, -a]


@case("broadcast-matrix-vector", """
let A = [[1, 2, 3], [4, 5, 6]];
let v = [10, 20, 30];
let c = [[1], [2]];
print A + v, A * c, A - c + v, c * v, v / A, A^c;
""")
def _():
    A, v, c = T([[1, 2, 3], [4, 5, 6]]), T([10, 20, 30]), T([[1], [2]])
    return [A + v, A * c, A - c + v, c * v, v / A, A ** c]


@case("broadcast-gradients", """
param v[3] = [1, 2, 3];
param c[2, 1] = [[0.5], [-1.5]];
let A = [[1, 2, 3], [4, 5, 6]];
print (A * v + c)^2, grad(sum((A * v + c)^2), v), grad(sum((A * v + c)^2), c);
print grad(sum(v / c), v), grad(sum(v / c), c);
""")
def _():
    A = T([[1, 2, 3], [4, 5, 6]])
    v, c = P([1, 2, 3]), P([[0.5], [-1.5]])
    e = lambda: torch.sum((A * v + c) ** 2)
    r = lambda: torch.sum(v / c)
    return [((A * v + c) ** 2), G(e(), v), G(e(), c), G(r(), v), G(r(), c)]


@case("elementwise-functions-vector-grad", """
param w[4] = [-1.5, -0.25, 0.5, 2];
print exp(w) * sin(w), grad(sum(exp(w) * sin(w)), w), grad(sum(tanh(w) * w^3), w), grad(sum(max(w, 0.5)), w), grad(sum(min(w, [0, -0.25, 1, 1])), w);
""")
def _():
    w = P([-1.5, -0.25, 0.5, 2])
    return [torch.exp(w) * torch.sin(w),
            G(torch.sum(torch.exp(w) * torch.sin(w)), w),
            G(torch.sum(torch.tanh(w) * w ** 3), w),
            G(torch.sum(torch.maximum(w, T(0.5))), w),
            G(torch.sum(torch.minimum(w, T([0, -0.25, 1, 1]))), w)]


# ------------------------------------------------------------ reductions

A_LIT = "[[1, -2, 3], [4, 5, -6]]"
A_VAL = [[1, -2, 3], [4, 5, -6]]


@case("reductions-all", f"""
let A = {A_LIT};
print sum(A), mean(A), var(A), std(A), min(A), max(A), norm(A), prod(A);
""")
def _():
    A = T(A_VAL)
    return [A.sum(), A.mean(), var(A), std(A), A.amin(), A.amax(), norm(A), A.prod()]


@case("reductions-axis0", f"""
let A = {A_LIT};
print sum(A, axis=0), mean(A, axis=0), var(A, axis=0), std(A, axis=0), min(A, axis=0), max(A, axis=0), norm(A, axis=0), prod(A, axis=0);
""")
def _():
    A = T(A_VAL)
    d = dict(dim=0)
    return [A.sum(**d), A.mean(**d), var(A, **d), std(A, **d), A.amin(**d), A.amax(**d),
            norm(A, **d), A.prod(**d)]


@case("reductions-axis1", f"""
let A = {A_LIT};
print sum(A, axis=1), mean(A, axis=1), var(A, axis=1), std(A, axis=1), min(A, axis=1), max(A, axis=1), norm(A, axis=1), prod(A, axis=1);
""")
def _():
    A = T(A_VAL)
    d = dict(dim=1)
    return [A.sum(**d), A.mean(**d), var(A, **d), std(A, **d), A.amin(**d), A.amax(**d),
            norm(A, **d), A.prod(**d)]


@case("reductions-vector-axis0", """
let v = [0.5, -1.25, 3, 2];
print sum(v, axis=0), mean(v, axis=0), var(v, axis=0), std(v, axis=0), min(v, axis=0), max(v, axis=0), norm(v, axis=0), prod(v, axis=0), var(v), std(v);
""")
def _():
    v = T([0.5, -1.25, 3, 2])
    return [v.sum(0), v.mean(0), var(v, dim=0), std(v, dim=0), v.amin(0), v.amax(0),
            norm(v, dim=0), v.prod(0), var(v), std(v)]


@case("reductions-rank3-axis", """
let B = reshape(arange(0, 24), [2, 3, 4]);
print sum(B, axis=1), mean(B, axis=2), max(B, axis=0), var(B, axis=1), prod(B + 1, axis=2);
""")
def _():
    B = torch.arange(0, 24, dtype=F64).reshape(2, 3, 4)
    return [B.sum(1), B.mean(2), B.amax(0), var(B, dim=1), (B + 1).prod(2)]


@case("reduction-gradients-vector", """
param w[3] = [1, 2, 3];
print grad(sum(w^2), w), grad(mean(w^2), w), grad(var(w), w), grad(std(w), w), grad(norm(w), w), grad(prod(w), w), grad(max(w), w), grad(min(w), w);
""")
def _():
    w = P([1, 2, 3])
    return [G(torch.sum(w ** 2), w), G(torch.mean(w ** 2), w), G(var(w), w), G(std(w), w),
            G(norm(w), w), G(w.prod(), w), G(w.amax(), w), G(w.amin(), w)]


M_LIT = "[[1, 2, 3], [4, 6, 5]]"
M_VAL = [[1, 2, 3], [4, 6, 5]]


@case("reduction-gradients-axis0", f"""
param M[2, 3] = {M_LIT};
let k = [1, -2, 3];
print grad(sum(sum(M, axis=0) * k), M), grad(sum(mean(M, axis=0) * k), M), grad(sum(var(M, axis=0) * k), M), grad(sum(std(M, axis=0) * k), M), grad(sum(min(M, axis=0) * k), M), grad(sum(max(M, axis=0) * k), M), grad(sum(norm(M, axis=0) * k), M), grad(sum(prod(M, axis=0) * k), M);
""")
def _():
    M, k = P(M_VAL), T([1, -2, 3])
    fs = [lambda: M.sum(0), lambda: M.mean(0), lambda: var(M, dim=0), lambda: std(M, dim=0),
          lambda: M.amin(0), lambda: M.amax(0), lambda: norm(M, dim=0), lambda: M.prod(0)]
    return [G(torch.sum(f() * k), M) for f in fs]


@case("reduction-gradients-axis1", f"""
param M[2, 3] = {M_LIT};
let k = [2, -0.5];
print grad(sum(sum(M, axis=1) * k), M), grad(sum(mean(M, axis=1) * k), M), grad(sum(var(M, axis=1) * k), M), grad(sum(std(M, axis=1) * k), M), grad(sum(min(M, axis=1) * k), M), grad(sum(max(M, axis=1) * k), M), grad(sum(norm(M, axis=1) * k), M), grad(sum(prod(M, axis=1) * k), M);
""")
def _():
    M, k = P(M_VAL), T([2, -0.5])
    fs = [lambda: M.sum(1), lambda: M.mean(1), lambda: var(M, dim=1), lambda: std(M, dim=1),
          lambda: M.amin(1), lambda: M.amax(1), lambda: norm(M, dim=1), lambda: M.prod(1)]
    return [G(torch.sum(f() * k), M) for f in fs]


@case("reduction-gradients-matrix-all", f"""
param M[2, 3] = {M_LIT};
print grad(sum(M^2), M), grad(mean(M^3), M), grad(var(M), M), grad(std(M), M), grad(norm(M), M), grad(prod(M), M), grad(max(M), M), grad(min(M), M);
""")
def _():
    M = P(M_VAL)
    return [G(torch.sum(M ** 2), M), G(torch.mean(M ** 3), M), G(var(M), M), G(std(M), M),
            G(norm(M), M), G(M.prod(), M), G(M.amax(), M), G(M.amin(), M)]


@case("max-min-ties-all", """
param t[4] = [1, 3, 3, 2];
param u[3] = [2, 2, 2];
print max(t), min(u), grad(max(t), t), grad(min(t), t), grad(max(u), u), grad(min(u), u), grad(max(t) + min(t), t);
""")
def _():
    t, u = P([1, 3, 3, 2]), P([2, 2, 2])
    return [t.amax(), u.amin(), G(t.amax(), t), G(t.amin(), t), G(u.amax(), u), G(u.amin(), u),
            G(t.amax() + t.amin(), t)]


@case("max-min-ties-axis", """
param T[3, 3] = [[1, 5, 2], [1, 5, 3], [0, 5, 3]];
print max(T, axis=0), min(T, axis=1), grad(sum(max(T, axis=0) * [1, 2, 3]), T), grad(sum(min(T, axis=0) * [1, 2, 3]), T), grad(sum(max(T, axis=1) * [1, 2, 3]), T), grad(sum(min(T, axis=1)), T);
""")
def _():
    Tm = P([[1, 5, 2], [1, 5, 3], [0, 5, 3]])
    k = T([1, 2, 3])
    return [Tm.amax(0), Tm.amin(1), G(torch.sum(Tm.amax(0) * k), Tm), G(torch.sum(Tm.amin(0) * k), Tm),
            G(torch.sum(Tm.amax(1) * k), Tm), G(torch.sum(Tm.amin(1)), Tm)]


@case("elementwise-max-min-ties", """
param w[3] = [1, 2, 3];
print grad(sum(max(w, [1, 0, 3])), w), grad(sum(min(w, [0, 2, 3])), w), grad(sum(max(w, 2)), w);
""")
def _():
    w = P([1, 2, 3])
    return [G(torch.sum(torch.maximum(w, T([1, 0, 3]))), w),
            G(torch.sum(torch.minimum(w, T([0, 2, 3]))), w),
            G(torch.sum(torch.maximum(w, T(2.0))), w)]


@case("prod-with-zeros", """
param z[4] = [2, 0, 3, 4];
param zz[3] = [0, 2, 0];
param Z[2, 3] = [[1, 0, 2], [3, 4, 5]];
print prod(z), grad(prod(z), z), grad(prod(zz), zz), prod(Z, axis=1), grad(sum(prod(Z, axis=1)), Z), grad(sum(prod(Z, axis=0)), Z);
""")
def _():
    z, zz, Z = P([2, 0, 3, 4]), P([0, 2, 0]), P([[1, 0, 2], [3, 4, 5]])
    return [z.prod(), G(z.prod(), z), G(zz.prod(), zz), Z.prod(1), G(Z.prod(1).sum(), Z),
            G(Z.prod(0).sum(), Z)]


@case("norm-at-zero", """
param o[3] = [0, 0, 0];
print norm(o), grad(norm(o), o);
""")
def _():
    o = P([0, 0, 0])
    return [norm(o), G(norm(o), o)]


@case("std-of-constant", """
param c[3] = [2, 2, 2];
print std(c), var(c), grad(std(c), c), grad(var(c), c);
""")
def _():
    c = P([2, 2, 2])
    return [std(c), var(c), G(std(c), c), G(var(c), c)]


@case("std-axis-constant-row", """
param C[2, 3] = [[1, 1, 1], [1, 2, 4]];
print std(C, axis=1), grad(sum(std(C, axis=1)), C), grad(sum(var(C, axis=1)), C);
""")
def _():
    C = P([[1, 1, 1], [1, 2, 4]])
    return [std(C, dim=1), G(std(C, dim=1).sum(), C), G(var(C, dim=1).sum(), C)]


@case("sqrt-of-var-constant", """
param c[3] = [2, 2, 2];
print sqrt(var(c)), grad(sqrt(var(c)), c);
""")
def _():
    c = P([2, 2, 2])
    return [torch.sqrt(var(c)), G(torch.sqrt(var(c)), c)]


# ------------------------------------------------------------ matmul

@case("matmul-values", """
let v = [1, -2];
let M = [[1, 2, 3], [4, 5, 6]];
let N = [[1, 0], [-1, 2], [0.5, 3]];
print v @ M, M @ N, M @ [1, 2, 3], N @ M, [1, 2, 3] @ [4, 5, 6], N @ v;
""")
def _():
    v, M, N = T([1, -2]), T([[1, 2, 3], [4, 5, 6]]), T([[1, 0], [-1, 2], [0.5, 3]])
    return [v @ M, M @ N, M @ T([1, 2, 3]), N @ M, T([1, 2, 3]) @ T([4, 5, 6]), N @ v]


@case("matmul-gradients", """
param v[2] = [1, -2];
param M[2, 3] = [[1, 2, 3], [4, 5, 6]];
param N[3, 2] = [[1, 0], [-1, 2], [0.5, 3]];
param u[3] = [0.5, -1, 2];
print grad(sum((v @ M)^2), v), grad(sum((v @ M)^2), M), grad(sum((M @ N)^2), M), grad(sum((M @ N)^2), N), grad(sum((M @ u)^3), M), grad(sum((M @ u)^3), u), grad(u @ u, u), grad(v @ M @ u, M);
""")
def _():
    v, M = P([1, -2]), P([[1, 2, 3], [4, 5, 6]])
    N, u = P([[1, 0], [-1, 2], [0.5, 3]]), P([0.5, -1, 2])
    return [G(torch.sum((v @ M) ** 2), v), G(torch.sum((v @ M) ** 2), M),
            G(torch.sum((M @ N) ** 2), M), G(torch.sum((M @ N) ** 2), N),
            G(torch.sum((M @ u) ** 3), M), G(torch.sum((M @ u) ** 3), u),
            G(u @ u, u), G(v @ M @ u, M)]


# ------------------------------------------------------------ indexing, shapes

@case("indexing-values", """
let v = [10, 20, 30];
let M = [[1, 2, 3], [4, 5, 6]];
print v[1], M[1], M[:, 1], M[1, :], M[0, 2], M[:, 0] + M[:, 2], v[0] * M[1];
""")
def _():
    v, M = T([10, 20, 30]), T([[1, 2, 3], [4, 5, 6]])
    return [v[1], M[1], M[:, 1], M[1, :], M[0, 2], M[:, 0] + M[:, 2], v[0] * M[1]]


@case("indexing-gradients", """
param w[3] = [1, 2, 3];
param M[2, 3] = [[1, 2, 3], [4, 5, 6]];
print grad(w[1]^2, w), grad(sum(M[:, 1]^2), M), grad(sum(M[1, :] * [1, 2, 3]), M), grad(sum(M[1]^3), M), grad(M[1, 2]^3, M), grad(M[0, 0] * M[1, 2] + M[0, 0]^2, M), grad(dot(M[0], M[1]), M);
""")
def _():
    w, M = P([1, 2, 3]), P([[1, 2, 3], [4, 5, 6]])
    return [G(w[1] ** 2, w), G(torch.sum(M[:, 1] ** 2), M), G(torch.sum(M[1, :] * T([1, 2, 3])), M),
            G(torch.sum(M[1] ** 3), M), G(M[1, 2] ** 3, M), G(M[0, 0] * M[1, 2] + M[0, 0] ** 2, M),
            G(torch.dot(M[0], M[1]), M)]


@case("reshape-transpose", """
param M[2, 3] = [[1, 2, 3], [4, 5, 6]];
print reshape(arange(0, 6), [2, 3]), reshape(M, [3, -1]), reshape(M, [6]), reshape(M, [-1]), transpose(M), transpose(M) @ [1, 2], grad(sum(reshape(M, [3, 2]) @ [1, -1]), M), grad(sum((transpose(M) @ [1, 2])^2), M), grad(sum(reshape(M, [6]) * arange(0, 6)), M);
""")
def _():
    M = P([[1, 2, 3], [4, 5, 6]])
    return [torch.arange(0, 6, dtype=F64).reshape(2, 3), M.reshape(3, -1), M.reshape(6), M.reshape(-1),
            M.T, M.T @ T([1, 2]),
            G(torch.sum(M.reshape(3, 2) @ T([1, -1])), M),
            G(torch.sum((M.T @ T([1, 2])) ** 2), M),
            G(torch.sum(M.reshape(6) * torch.arange(0, 6, dtype=F64)), M)]


@case("dot", """
param w[3] = [1, 2, 3];
print dot([1, 2, 3], [4, 5, 6]), dot(w, w), grad(dot(w, [4, 5, 6]), w), grad(dot(w, w), w), grad(dot(w^2, w), w);
""")
def _():
    w = P([1, 2, 3])
    return [torch.dot(T([1, 2, 3]), T([4, 5, 6])), torch.dot(w, w), G(torch.dot(w, T([4, 5, 6])), w),
            G(torch.dot(w, w), w), G(torch.dot(w ** 2, w), w)]


# ------------------------------------------------------------ constructors

@case("linspace-arange", """
print linspace(0, 1, 5), linspace(-1, 2, 7), linspace(3, -3, 4), arange(0, 5, step=1), arange(0, 5), arange(1, 2, step=0.25), arange(5, 0, step=-1.5), arange(-2, 2, step=0.5);
""")
def _():
    return [torch.linspace(0, 1, 5, dtype=F64), torch.linspace(-1, 2, 7, dtype=F64),
            torch.linspace(3, -3, 4, dtype=F64), torch.arange(0, 5, 1, dtype=F64),
            torch.arange(0, 5, dtype=F64), torch.arange(1, 2, 0.25, dtype=F64),
            torch.arange(5, 0, -1.5, dtype=F64), torch.arange(-2, 2, 0.5, dtype=F64)]


@case("linspace-arange-inexact", """
print arange(0, 1, step=0.1), linspace(0, 0.3, 4), linspace(0.1, 0.7, 13), sum(arange(0, 1, step=0.1));
""")
def _():
    a = torch.arange(0, 1, 0.1, dtype=F64)
    return [a, torch.linspace(0, 0.3, 4, dtype=F64), torch.linspace(0.1, 0.7, 13, dtype=F64), a.sum()]


@case("constructors-in-expressions", """
let x = linspace(0, 2, 5);
print sum(x^2), mean(exp(-x)), x @ arange(0, 5), reshape(arange(0, 6), [3, 2]) @ [1, 1], zeros([2, 2]) + ones([2]), full([2, 3], 1.5) * [1, 2, 3];
""")
def _():
    x = torch.linspace(0, 2, 5, dtype=F64)
    return [torch.sum(x ** 2), torch.mean(torch.exp(-x)), x @ torch.arange(0, 5, dtype=F64),
            torch.arange(0, 6, dtype=F64).reshape(3, 2) @ T([1, 1]),
            torch.zeros(2, 2, dtype=F64) + torch.ones(2, dtype=F64),
            torch.full((2, 3), 1.5, dtype=F64) * T([1, 2, 3])]


# ------------------------------------------------------------ fits (fit.json)

FITS = []


def fit(id, script, steps):
    def deco(fn):
        FITS.append((id, script.strip() + "\n", steps, fn))
        return fn
    return deco


@fit("fit-vector-adam-poly", """
param w[3] = [0, 0, 0];
let xs = linspace(0, 2, 9);
let ys = 0.5 - xs + 0.75*xs^2;
minimize mean((w[0] + w[1]*xs + w[2]*xs^2 - ys)^2) with adam(lr=0.05) for 200 steps;
""", 200)
def _():
    w = torch.nn.Parameter(T([0, 0, 0]))
    xs = torch.linspace(0, 2, 9, dtype=F64)
    ys = 0.5 - xs + 0.75 * xs ** 2
    loss = lambda: torch.mean((w[0] + w[1] * xs + w[2] * xs ** 2 - ys) ** 2)
    return {"w": w}, loss, torch.optim.Adam([w], lr=0.05)


@fit("fit-vector-adam-matmul-amsgrad", """
param w[3] = [1, 1, 1];
let X = [[1, 0, 0], [1, 1, 1], [1, 2, 4], [1, 3, 9]];
let y = [1, 2, 5, 10];
minimize mean((X @ w - y)^2) with adam(lr=0.1, betas=(0.9, 0.99), amsgrad=true) for 150 steps;
""", 150)
def _():
    w = torch.nn.Parameter(T([1, 1, 1]))
    X, y = T([[1, 0, 0], [1, 1, 1], [1, 2, 4], [1, 3, 9]]), T([1, 2, 5, 10])
    loss = lambda: torch.mean((X @ w - y) ** 2)
    return {"w": w}, loss, torch.optim.Adam([w], lr=0.1, betas=(0.9, 0.99), amsgrad=True)


def run_fit(steps, fn):
    params, loss, opt = fn()

    def state():
        with torch.no_grad():
            return {"loss": enc(loss()), "params": {n: enc(p) for n, p in params.items()}}

    path = [state()]
    for _ in range(steps):
        opt.zero_grad()
        loss().backward()
        opt.step()
        path.append(state())
    return path


def main():
    here = Path(__file__).resolve().parent
    gen = f"torch {torch.__version__}, float64 (tests/reference/gen_tensor.py)"
    ids = [c[0] for c in CASES] + [f[0] for f in FITS]
    assert len(ids) == len(set(ids)), "duplicate ids"
    cases = [{"id": id, "script": script, "expected": enc(fn())} for id, script, fn in CASES]
    with open(here / "tensor.json", "w") as fh:
        json.dump({"generator": gen, "cases": cases}, fh, indent=1)
        fh.write("\n")
    fits = [{"id": id, "script": script, "steps": steps, "path": run_fit(steps, fn)}
            for id, script, steps, fn in FITS]
    with open(here / "fit.json", "w") as fh:
        json.dump({"generator": gen, "cases": fits}, fh, indent=1)
        fh.write("\n")
    print(f"{len(cases)} tensor cases, {len(fits)} fit cases", file=sys.stderr)


if __name__ == "__main__":
    main()
