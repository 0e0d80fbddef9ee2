"""PyTorch twin of adaptive-basis.loss: 10 sigmoids on 100,000 points,
200 Adam steps, float64, 2 threads. Prints the time per step (after a
warm-up, best of a few runs) and the loss before and after."""
import sys
import time

import torch

torch.set_num_threads(2)
torch.set_default_dtype(torch.float64)

N, STEPS = 100_000, 200


def run(steps):
    xs = torch.linspace(-2, 2, N)
    ys = 1 / (1 + torch.exp(-xs / 0.3)) + 0.3 * torch.sin(3 * xs)
    c = torch.full((10,), 0.1, requires_grad=True)
    alpha = torch.linspace(-1.8, 1.8, 10).requires_grad_()
    beta = torch.full((10,), 0.5, requires_grad=True)
    opt = torch.optim.Adam([c, alpha, beta], lr=0.005)
    xcol = xs.reshape(N, 1)

    def loss_fn():
        model = (1 / (1 + torch.exp((xcol - alpha) / beta))) @ c
        return torch.mean((model - ys) ** 2)

    first = loss_fn().item()
    t = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
    el = time.perf_counter() - t
    with torch.no_grad():
        last = loss_fn().item()
    return el, first, last


if __name__ == "__main__":
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    run(10)  # warm-up
    best = None
    for _ in range(runs):
        el, first, last = run(STEPS)
        best = el if best is None else min(best, el)
    print(f"loss {first!r} -> {last!r}")
    print(f"pytorch adaptive-basis: {best / STEPS * 1e3:.2f} ms per step "
          f"({STEPS} steps, best of {runs}, {torch.get_num_threads()} threads)")
