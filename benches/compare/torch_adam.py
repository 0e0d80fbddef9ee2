"""The timed torch.optim.Adam loop that every PyTorch twin runs (the
adaptive basis and both MLPs): `steps` steps of zero_grad, forward,
backward, step, timed with time.perf_counter, then the loss once more."""
import time

import torch


def adam_steps(params, lr, loss_fn, steps):
    """(seconds of `steps` Adam steps on `params`, the loss after them)."""
    opt = torch.optim.Adam(params, lr=lr)
    t = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
    el = time.perf_counter() - t
    with torch.no_grad():
        return el, loss_fn().item()
