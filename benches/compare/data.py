"""Deterministic data for the benchmarks: written as csv into a folder
(run.py uses a temporary one), read by both the .loss scripts and their
twins, so both sides start from the same numbers to the last bit.

Each file has a header row; a weight is one column `v`, row-major."""
import os

import numpy as np

# nn.Linear's initialization: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
MLP_SMALL = {"n": 1000, "layers": [(1, 64), (64, 1)]}
MLP_WIDE = {"n": 4096, "layers": [(1, 256), (256, 256), (256, 1)]}


def _column(path, values):
    with open(path, "w") as f:
        f.write("v\n")
        f.writelines(f"{float(v)!r}\n" for v in np.asarray(values, dtype=np.float64).ravel())


def _mlp(folder, name, spec, seed):
    rng = np.random.default_rng(seed)
    n = spec["n"]
    xs = np.linspace(-3.0, 3.0, n)
    ys = np.sin(xs) + 0.1 * rng.standard_normal(n)
    with open(os.path.join(folder, f"{name}.csv"), "w") as f:
        f.write("x,y\n")
        f.writelines(f"{float(x)!r},{float(y)!r}\n" for x, y in zip(xs, ys))
    for i, (fan_in, fan_out) in enumerate(spec["layers"], start=1):
        bound = 1.0 / np.sqrt(fan_in)
        _column(os.path.join(folder, f"{name}_w{i}.csv"),
                rng.uniform(-bound, bound, (fan_out, fan_in)))
        _column(os.path.join(folder, f"{name}_b{i}.csv"),
                rng.uniform(-bound, bound, fan_out))


def _unbinned(folder, seed, n=100_000, frac=0.3, mu=5.0, sigma=0.7, tau=4.0):
    """A Gaussian peak on an exponential, both truncated to [0, 10]."""
    rng = np.random.default_rng(seed)
    nsig = int(n * frac)
    sig = rng.normal(mu, sigma, 2 * nsig)
    sig = sig[(sig >= 0) & (sig <= 10)][:nsig]
    bkg = rng.exponential(tau, 2 * (n - nsig))
    bkg = bkg[bkg <= 10][: n - nsig]
    x = np.concatenate([sig, bkg])
    rng.shuffle(x)
    assert len(x) == n
    _column(os.path.join(folder, "unbinned.csv"), x)


def write_all(folder):
    os.makedirs(folder, exist_ok=True)
    _mlp(folder, "mlp_small", MLP_SMALL, seed=1)
    _mlp(folder, "mlp_wide", MLP_WIDE, seed=2)
    _unbinned(folder, seed=3)


def column(folder, name):
    """One column of a csv written above, as float64 (header skipped)."""
    return np.loadtxt(os.path.join(folder, name), delimiter=",", skiprows=1, ndmin=1)


if __name__ == "__main__":
    import sys
    write_all(sys.argv[1] if len(sys.argv) > 1 else "data")
