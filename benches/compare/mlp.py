"""The PyTorch side of both MLP benchmarks (mlp_small.loss, mlp_wide.loss):
explicit weight tensors, `x @ w.T + b` (what nn.Linear computes), read with
the data from the csv files of data.py, Adam, float64."""
import torch

import data as benchdata
from torch_adam import adam_steps

_cache = {}


def load(folder, name, layers):
    """The inputs, targets and [w1, b1, w2, b2, ...] of a network."""
    def t(file, shape=None):
        v = torch.from_numpy(benchdata.column(folder, file))
        return v if shape is None else v.reshape(shape)

    xy = benchdata.column(folder, f"{name}.csv")
    xs = torch.from_numpy(xy[:, 0].copy()).reshape(-1, 1)
    ys = torch.from_numpy(xy[:, 1].copy()).reshape(-1, 1)
    params = []
    for i, (fan_in, fan_out) in enumerate(layers, start=1):
        params.append(t(f"{name}_w{i}.csv", (fan_out, fan_in)))
        params.append(t(f"{name}_b{i}.csv"))
    return xs, ys, params


def train(xs, ys, init, act, lr, steps):
    """(seconds of the steps, loss after them) from fresh copies of `init`."""
    params = [p.clone().requires_grad_() for p in init]

    def loss_fn():
        h = xs
        for k in range(0, len(params), 2):
            h = h @ params[k].T + params[k + 1]
            if k + 2 < len(params):
                h = act(h)
        return torch.mean((h - ys) ** 2)

    return adam_steps(params, lr, loss_fn, steps)


def run(name, spec, act, lr, steps, folder):
    """`steps` Adam steps of network `name` (data.py's `spec`), its data and
    weights read from `folder` once: (seconds, loss after them)."""
    if (folder, name) not in _cache:
        _cache[folder, name] = load(folder, name, spec["layers"])
    xs, ys, init = _cache[folder, name]
    return train(xs, ys, init, act, lr, steps)
