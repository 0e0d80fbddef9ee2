"""losslang next to PyTorch and iminuit, side by side in one run.

    /work/venv/bin/python benches/compare/run.py [--runs N] [--only NAME,...]
        [--bin target/release/losslang] [--instructions]

Python with torch, iminuit and numpy. It writes the data (data.py) and copies
of the .loss scripts into a temporary folder, then for each workload runs
both sides and prints one table:

- losslang's time per step (or per statement) is the difference between two
  runs of the binary with different step (or repetition) counts, divided by
  the difference in counts, so start-up, parsing and compiling drop out;
- the peer (torch, iminuit) is timed in this process with time.perf_counter
  around the steps (or fits), torch with 2 threads and with 1 thread;
- every figure is the best of `--runs` runs (after a warm-up for torch);
- the check column compares the results of the two sides.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import data as benchdata  # noqa: E402


# ---------------------------------------------------------------- losslang


class Losslang:
    """Runs scripts with the release binary in the data folder."""

    def __init__(self, binary, folder, runs):
        self.binary, self.folder, self.runs = binary, folder, runs

    def _write(self, name, text):
        path = os.path.join(self.folder, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def wall(self, name, text, runs=None, flags=()):
        """Best wall-clock seconds of `losslang run` on `text`."""
        path = self._write(name, text)
        best = float("inf")
        for _ in range(runs or self.runs):
            t = time.perf_counter()
            r = subprocess.run([self.binary, "run", path, *flags], cwd=self.folder,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            el = time.perf_counter() - t
            if r.returncode != 0:
                sys.exit(f"losslang failed on {name}:\n{r.stderr.decode()}")
            best = min(best, el)
        return best

    def per_unit(self, name, make, small, big, flags=()):
        """(make(big) - make(small)) / (big - small), each the best of runs."""
        t_small = self.wall(f"{name}-{small}.loss", make(small), flags=flags)
        t_big = self.wall(f"{name}-{big}.loss", make(big), flags=flags)
        return (t_big - t_small) / (big - small)

    def results(self, name, text):
        """The `results` of `losslang run --json`."""
        path = self._write(name, text)
        r = subprocess.run([self.binary, "run", path, "--json"], cwd=self.folder,
                           capture_output=True)
        out = json.loads(r.stdout)
        if not out["ok"]:
            sys.exit(f"losslang failed on {name}: {out['error']}")
        return out["results"]

    def instructions(self, name, text):
        """Instructions of one run under callgrind (stable on a busy machine)."""
        path = self._write(name, text)
        r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                            self.binary, "run", path], cwd=self.folder,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        m = re.search(r"Collected : (\d+)", r.stderr)
        if r.returncode != 0 or not m:
            sys.exit(f"callgrind failed on {name}:\n{r.stderr}")
        return int(m.group(1))

    def max_rss(self, name, text):
        """Peak resident set size (bytes) of one run."""
        return max_rss([self.binary, "run", self._write(name, text)], self.folder)


def max_rss(argv, cwd):
    # /usr/bin/time, not wait4 here: a child forked from this process (torch
    # loaded) would count this process's pages as its own before its exec
    r = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], cwd=cwd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"{argv} failed:\n{r.stderr}")
    return int(r.stderr.strip().splitlines()[-1]) * 1024  # kilobytes


def with_steps(text, steps):
    new, n = re.subn(r"for \d+ steps", f"for {steps} steps", text)
    assert n == 1, "a step benchmark has one `for N steps`"
    return new


def repeated(text, k, vary=False):
    """The script with the part after `# bench: repeat` written k times;
    with `vary`, each copy's objective gets its own constant term, so no
    two statements minimize the same graph."""
    head, body = text.split("# bench: repeat\n")
    parts = []
    for i in range(k):
        b = body
        if vary:
            b = b.replace(" with migrad", f" + {i + 1}e-12 with migrad")
        parts.append(b)
    return head + "".join(parts)


def last_print(results):
    return [r for r in results if r["kind"] == "print"][-1]["values"]


def last_fit(results):
    return [r for r in results if r["kind"] == "minimize"][-1]


# ---------------------------------------------------------------- peers


def best_of(runs, f):
    """min over runs of f()[0], with the other outputs of the last run."""
    best, rest = float("inf"), None
    for _ in range(runs):
        out = f()
        best, rest = min(best, out[0]), out[1:]
    return (best,) + tuple(rest)


def torch_per_step(module, steps, folder, runs, threads):
    import torch

    torch.set_num_threads(threads)
    module.run(max(1, steps // 10), folder)  # warm-up
    el, *rest = best_of(runs, lambda: module.run(steps, folder))
    return (el / steps, *rest)


def rel(a, b):
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


# ---------------------------------------------------------------- workloads


def step_workload(ll, name, small, big, runs, folder, check_loss, peer_steps=None):
    """A training benchmark: losslang and torch per step, and the results of
    both after `peer_steps` (default `big`) steps."""
    import importlib

    text = open(os.path.join(HERE, f"{name}.loss")).read()
    mod = importlib.import_module(name)
    ours = ll.per_unit(name, lambda s: with_steps(text, s), small, big)
    peer_steps = peer_steps or big
    t2 = torch_per_step(mod, peer_steps, folder, runs, 2)
    t1 = torch_per_step(mod, peer_steps, folder, runs, 1)
    values = last_print(ll.results(f"{name}-check.loss", with_steps(text, peer_steps)))
    if check_loss:
        r = rel(values[0], t2[1])
        check = f"loss after {peer_steps} steps: rel. diff {r:.1e} {'ok' if r <= 1e-9 else 'FAIL'}"
    else:
        r = max(rel(values[0], t2[1]), rel(values[1], t2[2]))
        check = f"x, y after {peer_steps} steps: rel. diff {r:.1e}"
    return ours, t2[0], t1[0], check


def himmelblau(ll, runs, vary, json=False):
    import himmelblau as twin

    text = open(os.path.join(HERE, "himmelblau.loss")).read()
    ours = ll.per_unit("himmelblau" + ("-new" if vary else ""),
                       lambda k: repeated(text, k, vary), 20, 420,
                       flags=("--json",) if json else ())
    twin.run(20)
    reps = 200
    el, m = best_of(runs, lambda: twin.run(reps))
    fit = last_fit(ll.results("himmelblau-check.loss", repeated(text, 1)))
    d = max(abs(fit["params"]["x"] - m.values["x"]), abs(fit["params"]["y"] - m.values["y"]))
    return ours, el / reps, None, f"minimum: |diff| {d:.1e}"


def himmelblau_instructions(ll):
    """Instructions per MIGRAD + HESSE statement, text and --json."""
    text = open(os.path.join(HERE, "himmelblau.loss")).read()
    a = ll.instructions("himmelblau-i1.loss", repeated(text, 1))
    b = ll.instructions("himmelblau-i51.loss", repeated(text, 51))
    return (b - a) / 50


def unbinned(ll, runs, folder):
    import unbinned as twin

    text = open(os.path.join(HERE, "unbinned.loss")).read()
    ours = ll.per_unit("unbinned", lambda k: repeated(text, k), 0, 1)
    el, m = best_of(runs, lambda: twin.run(1, folder))
    fit = last_fit(ll.results("unbinned-check.loss", repeated(text, 1)))
    d = max(abs(fit["params"][p] - m.values[p]) / m.errors[p] for p in ("f", "mu", "sigma", "tau"))
    r = rel(fit["fval"] if "fval" in fit else fit["loss"], m.fval)
    return ours, el, None, f"values within {d:.1e} σ, FCN rel. diff {r:.1e}"


def startup(ll, runs):
    ours = ll.wall("startup.loss", open(os.path.join(HERE, "startup.loss")).read(),
                   runs=max(20, 4 * runs))
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch"], check=True)
        best = min(best, time.perf_counter() - t)
    return ours, best, None, "a 2-line script vs `python -c 'import torch'`"


def memory(ll, folder):
    text = with_steps(open(os.path.join(HERE, "adaptive_basis.loss")).read(), 5)
    ours = ll.max_rss("adaptive_basis-mem.loss", text)
    theirs = max_rss([sys.executable, os.path.join(HERE, "adaptive_basis.py"), "5", "2"], folder)
    return ours, theirs, None, "peak RSS of the whole process (5 steps)"


# ---------------------------------------------------------------- table


def fmt_time(s):
    if s is None:
        return ""
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s * 1e9:.3g} ns"


def fmt_bytes(b):
    return "" if b is None else f"{b / 1e6:.1f} MB"


WORKLOADS = [
    # name, label, peer, kind
    ("beale", "Adam on Beale, per step", "torch", "time"),
    ("adaptive_basis", "adaptive basis 100k × 10, Adam, per step", "torch", "time"),
    ("mlp_small", "MLP 1-64-1 relu, 1000 points, Adam, per step", "torch", "time"),
    ("mlp_wide", "MLP 1-256-256-1 tanh, 4096 points, Adam, per step", "torch", "time"),
    ("himmelblau", "MIGRAD + HESSE on Himmelblau, the same statement again", "iminuit", "time"),
    ("himmelblau_new", "MIGRAD + HESSE on Himmelblau, a new objective each time", "iminuit",
     "time"),
    ("himmelblau_json", "MIGRAD + HESSE on Himmelblau again, `--json` (no text report)",
     "iminuit", "time"),
    ("unbinned", "unbinned NLL, 100k events, 4 params, MIGRAD+HESSE+MINOS", "iminuit", "time"),
    ("startup", "start-up", "import torch", "time"),
    ("memory", "peak memory, adaptive basis", "torch", "bytes"),
]


def measure(name, ll, runs, folder):
    if name == "beale":
        return step_workload(ll, "beale", 1000, 201000, runs, folder, check_loss=False,
                             peer_steps=2000)
    if name == "adaptive_basis":
        return step_workload(ll, name, 5, 45, runs, folder, check_loss=True)
    if name == "mlp_small":
        return step_workload(ll, name, 100, 1100, runs, folder, check_loss=True)
    if name == "mlp_wide":
        return step_workload(ll, name, 3, 23, runs, folder, check_loss=True)
    if name == "himmelblau":
        return himmelblau(ll, runs, vary=False)
    if name == "himmelblau_new":
        return himmelblau(ll, runs, vary=True)
    if name == "himmelblau_json":
        return himmelblau(ll, runs, vary=False, json=True)
    if name == "unbinned":
        return unbinned(ll, runs, folder)
    if name == "startup":
        return startup(ll, runs)
    if name == "memory":
        return memory(ll, folder)
    raise ValueError(name)


def machine():
    model = ""
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} CPUs"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="best of this many runs (3)")
    ap.add_argument("--only", default="", help="comma-separated workload names")
    ap.add_argument("--instructions", action="store_true",
                    help="also count MIGRAD + HESSE's instructions per statement (valgrind)")
    ap.add_argument("--bin", default=os.path.join(HERE, "..", "..", "target", "release",
                                                  "losslang"))
    args = ap.parse_args()
    names = [w[0] for w in WORKLOADS]
    only = [n for n in args.only.split(",") if n]
    for n in only:
        if n not in names:
            sys.exit(f"unknown workload {n!r}; one of: {', '.join(names)}")
    binary = os.path.abspath(args.bin)
    import iminuit
    import torch

    folder = tempfile.mkdtemp(prefix="losslang-bench-")
    try:
        benchdata.write_all(folder)
        ll = Losslang(binary, folder, args.runs)
        print(f"# {machine()}; torch {torch.__version__}, iminuit {iminuit.__version__}; "
              f"load average at start {os.getloadavg()[0]:.2f}; best of {args.runs}")
        print()
        print("| workload | losslang | peer (2 threads) | peer (1 thread) | ratio | check |")
        print("| --- | --- | --- | --- | --- | --- |")
        for name, label, peer, kind in WORKLOADS:
            if only and name not in only:
                continue
            ours, p2, p1, check = measure(name, ll, args.runs, folder)
            fmt = fmt_time if kind == "time" else fmt_bytes
            ratio = p2 / ours if ours > 0 else float("inf")
            print(f"| {label} | {fmt(ours)} | {peer} {fmt(p2)} | {fmt(p1)} | "
                  f"{ratio:.3g}× | {check} |", flush=True)
        if args.instructions:
            n = himmelblau_instructions(ll)
            print(f"\nMIGRAD + HESSE on Himmelblau, the same statement again: {n / 1e3:.0f}k "
                  "instructions per statement (callgrind, difference of 51 and 1 statements)")
        print()
        print(f"# load average at the end {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
