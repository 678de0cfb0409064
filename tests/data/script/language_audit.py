# The rest of the "Language" list of issue 17, each in the form model files
# use it: getattr/setattr/hasattr on self, kwargs.pop, math constants,
# typing in forward's signature, tuple unpacking, dict comprehension, assert,
# isinstance, a module-level constant as a default, str.format and f-strings.
from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence, Tuple, Type, Union, Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

DEPTH = 3
NAMES = ("a", "b", "c")


def make_layer(width: int, **kwargs) -> nn.Module:
    act: Type[nn.Module] = kwargs.pop("act", nn.ReLU)
    bias = kwargs.pop("bias", True)
    assert not kwargs, f"unexpected {list(kwargs)}"
    return nn.Sequential(nn.Linear(width, width, bias=bias), act())


class AuditNet(nn.Module):
    def __init__(self, width: int = 6, depth: int = DEPTH, factory: Callable[..., nn.Module] = make_layer,
                 head: Optional[Union[int, Sequence[int]]] = None):
        super().__init__()
        for i in range(depth):
            setattr(self, "layer{}".format(i), factory(width, act=nn.Tanh if i % 2 else nn.ReLU, bias=i != 1))
        assert hasattr(self, f"layer{depth - 1}") and not hasattr(self, f"layer{depth}")
        first = getattr(self, "layer0")
        assert isinstance(first, nn.Sequential) and isinstance(first[0], (nn.Linear, nn.Conv2d))
        sizes: Dict[str, int] = {name: width * (k + 1) for k, name in enumerate(NAMES)}
        (low, _, high), span = (sizes["a"], sizes["b"], sizes["c"]), sizes["c"] - sizes["a"]
        self.proj = nn.Linear(width, high if head is None else head)
        self.depth = depth
        self.limit = math.tau / 2 if math.inf > span else 0.0
        self.floor = -math.inf
        self.low = low

    def forward(self, x: torch.Tensor, scale: Optional[float] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        taps: List[torch.Tensor] = []
        x = self.layer0(x)
        taps.append(x)
        x = getattr(self, "layer1")(x)
        taps.append(x)
        x = self.layer2(x)
        y = self.proj(x).clamp(self.floor, self.limit)
        if scale is not None:
            y = y * scale
        first, second = taps
        return y * math.pi / self.low, first + second
