"""PyTorch twin of mlp_small.loss: 1-64-1 ReLU, 1,000 points, Adam(lr=0.01)."""
import sys

import torch

import data as benchdata
import mlp

_cache = {}


def run(steps, folder):
    if folder not in _cache:
        _cache[folder] = mlp.load(folder, "mlp_small", benchdata.MLP_SMALL["layers"])
    xs, ys, init = _cache[folder]
    return mlp.train(xs, ys, init, torch.relu, 0.01, steps)


if __name__ == "__main__":
    print(run(int(sys.argv[2]) if len(sys.argv) > 2 else 1000, sys.argv[1]))
