"""PyTorch twin of mlp_small.loss: 1-64-1 ReLU, 1,000 points, Adam(lr=0.01)."""
import sys

import torch

import data as benchdata
import mlp


def run(steps, folder):
    return mlp.run("mlp_small", benchdata.MLP_SMALL, torch.relu, 0.01, steps, folder)


if __name__ == "__main__":
    print(run(int(sys.argv[2]) if len(sys.argv) > 2 else 1000, sys.argv[1]))
