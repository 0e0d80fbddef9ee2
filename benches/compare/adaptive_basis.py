"""PyTorch twin of adaptive_basis.loss: 10 sigmoids on 100,000 points,
Adam(lr=0.005), float64. run(steps) returns (seconds of the steps, final loss)."""
import sys

import torch

from torch_adam import adam_steps

N = 100_000


def run(steps, data=None):
    dt = torch.float64
    xs = torch.linspace(-2, 2, N, dtype=dt)
    ys = 1 / (1 + torch.exp(-xs / 0.3)) + 0.3 * torch.sin(3 * xs)
    c = torch.full((10,), 0.1, dtype=dt, requires_grad=True)
    alpha = torch.linspace(-1.8, 1.8, 10, dtype=dt).requires_grad_()
    beta = torch.full((10,), 0.5, dtype=dt, requires_grad=True)
    xcol = xs.reshape(N, 1)

    def loss_fn():
        model = (1 / (1 + torch.exp((xcol - alpha) / beta))) @ c
        return torch.mean((model - ys) ** 2)

    return adam_steps([c, alpha, beta], 0.005, loss_fn, steps)


if __name__ == "__main__":
    torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 2)
    print(run(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
