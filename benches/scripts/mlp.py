"""PyTorch twin of mlp.loss: a 1-64-1 ReLU network on a noisy sine
(1,000 points), 1,000 Adam steps, float64, 2 threads. Same formulation as
the .loss script (explicit weight tensors, x @ w.T + b, what nn.Linear
computes). Prints the time per step (after a warm-up, best of a few runs)."""
import sys
import time

import torch

torch.set_num_threads(2)
torch.set_default_dtype(torch.float64)

N, STEPS = 1000, 1000


def run(steps):
    torch.manual_seed(1)
    xs = torch.linspace(-3, 3, N).reshape(N, 1)
    ys = torch.sin(xs) + 0.1 * torch.randn(N, 1)
    w1 = torch.empty(64, 1).uniform_(-1, 1).requires_grad_()
    b1 = torch.empty(64).uniform_(-1, 1).requires_grad_()
    w2 = torch.empty(1, 64).uniform_(-0.125, 0.125).requires_grad_()
    b2 = torch.empty(1).uniform_(-0.125, 0.125).requires_grad_()
    opt = torch.optim.Adam([w1, b1, w2, b2], lr=0.01)

    def loss_fn():
        hidden = torch.relu(xs @ w1.T + b1)
        output = hidden @ w2.T + b2
        return torch.mean((output - ys) ** 2)

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
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    run(50)  # warm-up
    best = None
    for _ in range(runs):
        el, first, last = run(STEPS)
        best = el if best is None else min(best, el)
    print(f"loss {first!r} -> {last!r}")
    print(f"pytorch mlp: {best / STEPS * 1e6:.0f} us per step "
          f"({STEPS} steps, best of {runs}, {torch.get_num_threads()} threads)")
