"""PyTorch twin of adaptive_basis.loss: 10 sigmoids on 100,000 points,
Adam(lr=0.005), float64. run(steps) returns (seconds of the steps, final loss)."""
import sys
import time

import torch

N = 100_000


def run(steps, data=None):
    dt = torch.float64
    xs = torch.linspace(-2, 2, N, dtype=dt)
    ys = 1 / (1 + torch.exp(-xs / 0.3)) + 0.3 * torch.sin(3 * xs)
    c = torch.full((10,), 0.1, dtype=dt, requires_grad=True)
    alpha = torch.linspace(-1.8, 1.8, 10, dtype=dt).requires_grad_()
    beta = torch.full((10,), 0.5, dtype=dt, requires_grad=True)
    opt = torch.optim.Adam([c, alpha, beta], lr=0.005)
    xcol = xs.reshape(N, 1)

    def loss_fn():
        model = (1 / (1 + torch.exp((xcol - alpha) / beta))) @ c
        return torch.mean((model - ys) ** 2)

    t = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
    el = time.perf_counter() - t
    with torch.no_grad():
        return el, loss_fn().item()


if __name__ == "__main__":
    torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 2)
    print(run(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
