"""PyTorch twin of mlp_wide.loss: 1-256-256-1 tanh, 4,096 points, Adam(lr=0.001)."""
import sys

import torch

import data as benchdata
import mlp


def run(steps, folder):
    return mlp.run("mlp_wide", benchdata.MLP_WIDE, torch.tanh, 0.001, steps, folder)


if __name__ == "__main__":
    print(run(int(sys.argv[2]) if len(sys.argv) > 2 else 20, sys.argv[1]))
