"""Three Gaussian blobs in the plane, 30 points each, for the classifier
examples (logistic-regression.loss, softmax-classifier.loss): writes
blobs.csv with columns x1, x2, y (the class 0, 1 or 2). Seeded, so the file
is the same on every run: python3 examples/data/gen_blobs.py"""

import os

import numpy as np

rng = np.random.default_rng(2024)
centres = [(-2.0, 0.0), (2.0, 0.5), (0.0, 2.5)]
rows = []
for k, (cx, cy) in enumerate(centres):
    for _ in range(30):
        rows.append((round(cx + rng.normal(0, 0.9), 3), round(cy + rng.normal(0, 0.9), 3), k))
order = rng.permutation(len(rows))
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "blobs.csv"), "w") as fh:
    fh.write("x1,x2,y\n")
    for i in order:
        x1, x2, y = rows[i]
        fh.write(f"{x1},{x2},{y}\n")
