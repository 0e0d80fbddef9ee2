"""iminuit twin of unbinned.loss: the same negative log-likelihood (Gaussian
peak on an exponential, both truncated to [0, 10]) as a numpy-vectorized FCN,
errordef=0.5, limits as in the script; MIGRAD + HESSE + MINOS.
run(reps, folder) returns (seconds of `reps` fits, the last Minuit)."""
import math
import sys
import time

import numpy as np
from iminuit import Minuit

import data as benchdata


def nll_of(x):
    r2 = math.sqrt(2)

    def nll(f, mu, sigma, tau):
        gauss = np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))
        gauss /= 0.5 * (math.erf((10 - mu) / (sigma * r2)) - math.erf((0 - mu) / (sigma * r2)))
        expo = np.exp(-x / tau) / tau / (1 - math.exp(-10 / tau))
        return -np.sum(np.log(f * gauss + (1 - f) * expo))

    return nll


def run(reps, folder):
    nll = nll_of(benchdata.column(folder, "unbinned.csv"))
    t = time.perf_counter()
    for _ in range(reps):
        m = Minuit(nll, f=0.5, mu=5, sigma=1, tau=4)
        m.errordef = Minuit.LIKELIHOOD
        m.limits["f"] = (0, 1)
        m.limits["sigma"] = (0.1, 5)
        m.limits["tau"] = (0.1, 50)
        m.migrad()
        m.hesse()
        m.minos()
    return time.perf_counter() - t, m


if __name__ == "__main__":
    el, m = run(1, sys.argv[1])
    print(f"{el * 1e3:.1f} ms per fit")
    print(m)
