"""iminuit twin of himmelblau.loss: MIGRAD + HESSE on Himmelblau's function
from (0, 0), the whole statement (a Minuit object, migrad, hesse).
run(reps) returns (seconds of `reps` fits, the last Minuit)."""
import time

from iminuit import Minuit


def himmelblau(x, y):
    return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2


def run(reps, data=None):
    t = time.perf_counter()
    for _ in range(reps):
        m = Minuit(himmelblau, x=0, y=0)
        m.migrad()
        m.hesse()
    return time.perf_counter() - t, m


if __name__ == "__main__":
    el, m = run(100)
    print(f"{el / 100 * 1e6:.1f} us per fit")
    print(m)
