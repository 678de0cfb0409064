"""The PyTorch reference for the distill throughput benchmark: an ordinary Python
training loop (Adam, cross-entropy or the distillation loss) over the digits data,
on the same model and batch size as `mlopt distill`. Prints samples/s as JSON.

usage: /usr/bin/python3 distill_torch_loop.py --model S.pt|S.py:Class [--teacher T.pt] --data digits.csv.gz
       [--epochs 5] [--batch-size 64] [--threads 1] [--val-split 0.2]
"""
import argparse
import gzip
import importlib.util
import json
import time

import numpy as np
import torch
import torch.nn.functional as F


def load_model(spec):
    if spec.endswith(".pt"):
        return torch.jit.load(spec)
    path, cls = spec.split(":")
    s = importlib.util.spec_from_file_location("m", path)
    m = importlib.util.module_from_spec(s)
    s.loader.exec_module(m)
    return getattr(m, cls)()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--teacher")
    p.add_argument("--data", required=True)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--val-split", type=float, default=0.2)
    p.add_argument("--alpha", type=float, default=0.7)
    p.add_argument("--temperature", type=float, default=4.0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    with gzip.open(a.data, "rt") as f:
        rows = np.loadtxt(f, delimiter=",", dtype=np.float32)
    x = torch.from_numpy(rows[:, :-1] * 0.0625).reshape(-1, 1, 8, 8)
    y = torch.from_numpy(rows[:, -1]).long()
    order = torch.randperm(len(x))
    n_val = int(round(len(x) * a.val_split))
    x_val, y_val = x[order[:n_val]], y[order[:n_val]]
    x_tr, y_tr = x[order[n_val:]], y[order[n_val:]]

    model = load_model(a.model)
    teacher = load_model(a.teacher).eval() if a.teacher else None
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    T, alpha = a.temperature, a.alpha
    samples, seconds = 0, 0.0
    for epoch in range(a.epochs):
        start = time.perf_counter()
        model.train()
        perm = torch.randperm(len(x_tr))
        correct, loss_sum = 0, 0.0
        for i in range(0, len(x_tr), a.batch_size):
            idx = perm[i:i + a.batch_size]
            xb, yb = x_tr[idx], y_tr[idx]
            out = model(xb)
            if teacher is not None:
                with torch.no_grad():
                    t = teacher(xb)
                kl = F.kl_div(F.log_softmax(out / T, 1), F.log_softmax(t / T, 1), reduction="batchmean",
                              log_target=True)
                loss = alpha * T * T * kl + (1 - alpha) * F.cross_entropy(out, yb)
            else:
                loss = F.cross_entropy(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            correct += (out.argmax(1) == yb).sum().item()
            loss_sum += loss.item()
        model.eval()
        with torch.no_grad():
            val_acc = (model(x_val).argmax(1) == y_val).float().mean().item()
        seconds += time.perf_counter() - start
        samples += len(x_tr)
    print(json.dumps({"samples_per_second": samples / seconds, "val_accuracy": val_acc, "seconds": seconds}))


if __name__ == "__main__":
    main()
