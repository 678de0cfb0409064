from __future__ import annotations
import math
from functools import partial
from typing import Optional, List, Callable, Type, Union
import torch
import torch.nn as nn
import torch.nn.functional as F

HIDDEN = 16

def make_act():
    return nn.ReLU(inplace=True)

class Block(nn.Module):
    def __init__(self, cin: int, cout: int, act: Callable[..., nn.Module] = nn.ReLU, **kwargs):
        super().__init__()
        bias = kwargs.get("bias", True)
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=bias)
        self.act = act()
        self.name = f"block_{cin}_{cout}"
    def forward(self, x):
        return self.act(self.conv(x))

class Net(nn.Module):
    def __init__(self, *args, num_classes: int = 10, width: int = HIDDEN, **kwargs):
        super().__init__()
        norm = partial(nn.BatchNorm2d, eps=1e-3)
        self.blocks = nn.ModuleDict({
            "a": Block(3, width, act=lambda: nn.LeakyReLU(0.1)),
            "b": Block(width, width, bias=False),
        })
        self.bn = norm(width)
        self.head = nn.Linear(width, num_classes)
        assert num_classes > 0, "need classes"
        self.scale = 1.0 / math.sqrt(width)
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for k in ["a", "b"]:
            x = self.blocks[k](x)
        x = self.bn(x)
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.head(x) * self.scale
