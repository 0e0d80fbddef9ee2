"""PyTorch twin of beale.loss: Adam(lr=0.3, betas=(0.99, 0.999)) on Beale's
function from (-1, 2), float64. run(steps) returns (seconds, x, y)."""
import time

import torch


def run(steps, data=None):
    x = torch.tensor(-1.0, dtype=torch.float64, requires_grad=True)
    y = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([x, y], lr=0.3, betas=(0.99, 0.999))
    t = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        loss = (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2
        loss.backward()
        opt.step()
    return time.perf_counter() - t, x.item(), y.item()


if __name__ == "__main__":
    print(run(1000))
