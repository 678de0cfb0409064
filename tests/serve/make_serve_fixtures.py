"""Fixture models for the serve tests (written into the folder given)."""
import json
import sys

import torch


class TwoInputs(torch.nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor):
        return a + b, a * b


class Fails(torch.nn.Module):
    """Fails (a model error, not a bad request) when the input sums above 1000."""

    def forward(self, x: torch.Tensor):
        if bool(x.sum() > 1000.0):
            raise RuntimeError("input too large for this model")
        return x * 2.0


class Slow(torch.nn.Module):
    """About a quarter of a second per run: keeps the queue busy."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.eye(384) * 0.5)

    def forward(self, x: torch.Tensor):
        y = x.new_ones(384, 384)
        for _ in range(40):
            y = torch.mm(y, self.w) + 1.0
        return x + y.sum() * 0.0


class Halves(torch.nn.Module):
    """FP16 and BF16 in and out."""

    def forward(self, h: torch.Tensor, b: torch.Tensor):
        return h * 2.0, b + 1.0


def save(module, path, inputs):
    extra = {"mlopt.json": json.dumps({"inputs": inputs})}
    torch.jit.save(torch.jit.script(module), path, _extra_files=extra)


out = sys.argv[1]
torch.set_num_threads(1)
save(TwoInputs(), f"{out}/two_inputs.pt", ["a:batch=1x3:float32", "b:batch=1x3:float32"])
save(Fails(), f"{out}/fails.pt", ["x:batch=1x4:float32"])
save(Slow(), f"{out}/slow.pt", ["x:1x4:float32"])
save(Halves(), f"{out}/halves.pt", ["h:batch=1x3:float16", "b:batch=1x3:bfloat16"])
