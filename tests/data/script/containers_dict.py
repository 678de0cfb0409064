import torch
import torch.nn as nn
import torch.nn.functional as F
from collections import OrderedDict


class Heads(nn.Module):
    """A container without forward: its parent calls its layers."""

    def __init__(self, width, names):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.heads = nn.ModuleDict({name: nn.Linear(width, 2) for name in names})


class DictNet(nn.Module):
    def __init__(self, width=6):
        super().__init__()
        self.stem = nn.ModuleDict({
            "conv": nn.Conv2d(3, width, 3, padding=1),
            "act": nn.ReLU(),
        })
        self.branches = nn.ModuleDict()
        self.branches["left"] = nn.Conv2d(width, width, 1)
        self.branches.update({"right": nn.Conv2d(width, width, 3, padding=1)})
        self.extra = nn.ModuleDict([("pool", nn.AdaptiveAvgPool2d(1)), ("flat", nn.Flatten())])
        self.gains = nn.ParameterList([nn.Parameter(torch.ones(width) * (k + 1)) for k in range(2)])
        self.bias = nn.ParameterDict({"a": nn.Parameter(torch.zeros(width)), "b": nn.Parameter(torch.full((width,), 0.5))})
        self.out = Heads(width, ["cls", "box"])
        assert len(self.branches) == 2 and "left" in self.branches.keys()

    def forward(self, x):
        x = self.stem["act"](self.stem["conv"](x))
        ys = []
        for name, branch in self.branches.items():
            ys.append(branch(x))
        y = ys[0] + ys[1]
        for key in self.branches:
            y = y + self.branches[key](x) * 0.5
        for layer in self.extra.values():
            y = layer(y)
        for i, g in enumerate(self.gains):
            y = y * g + self.bias["a"] * i
        y = y + self.bias["b"] + self.gains[-1] * 0.1
        y = self.out.norm(y)
        outs = []
        for k in ["cls", "box"]:
            outs.append(self.out.heads[k](y))
        return torch.cat(outs, 1)
