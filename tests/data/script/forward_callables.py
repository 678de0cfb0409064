# Callables made in __init__ and called in forward: lambdas stored on the
# module, torch functions and functools.partial kept as attributes, *args /
# **kwargs that forward and its helpers accept but do not use.
from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F

SCALE = 0.5


def combine(x, *rest, **options):
    return x * SCALE + 1.0


def shift(x, by: float = 1.0):
    return x + by


def _get_activation_fn(activation):  # as PyTorch's own transformer layers pick theirs
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


class Block(nn.Module):
    def __init__(self, width, norm_layer=None, act=None):
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm1d
        self._norm_layer = norm_layer  # kept, as torchvision's ResNet does, never called in forward
        self.fc = nn.Linear(width, width)
        self.norm = norm_layer(width)
        self.act = act if act is not None else (lambda t: F.relu(t))

    def forward(self, x, *args, **kwargs):
        return self.act(self.norm(self.fc(x)))


class CallableNet(nn.Module):
    def __init__(self, width: int = 6, slope: float = 0.15, classes: int = 3):
        super().__init__()
        self.blocks = nn.ModuleList([
            Block(width, norm_layer=partial(nn.BatchNorm1d, eps=1e-3)),
            Block(width, act=lambda t: F.leaky_relu(t, slope)),
        ])
        self.offset = nn.Parameter(torch.zeros(width))
        self.gate = lambda t, sharpness=2.0: torch.sigmoid(t * sharpness) * t + self.offset
        self.normalize = F.normalize
        self.squash = torch.tanh
        self.leaky = partial(F.leaky_relu, negative_slope=slope * 2)
        self.mix = lambda a, b: combine(a) - b * SCALE
        self.act = _get_activation_fn("gelu")
        self.act2 = getattr(F, "silu")
        self.shift = shift
        self.triple = lambda t: t * 3
        self.chain = lambda t: self.triple(t) + self.half(t)
        self.quarter = self.half_again
        self.head = nn.Linear(width, classes)

    def half(self, x):
        return x * 0.5

    def half_again(self, x):
        return self.half(self.half(x))

    def forward(self, x, *unused):
        for block in self.blocks:
            x = block(x)
        x = self.gate(x) + self.gate(x, sharpness=0.5)
        pair = (self.leaky(x), self.squash(x))
        x = self.mix(*pair)
        x = self.chain(self.act2(self.act(x))) + self.shift(x, 0.25) + self.quarter(x)
        return self.head(self.normalize(x, dim=1))
