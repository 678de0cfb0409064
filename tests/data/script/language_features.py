from __future__ import annotations

import math
import functools
from functools import partial
from typing import Any, Callable, Dict, List, Optional, Tuple, Type, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

EPS = 1e-5
WIDTHS: List[int] = [8, 12]


def conv3x3(cin: int, cout: int, stride: int = 1, **kwargs: Any) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1, **kwargs)


class Base(nn.Module):
    expansion = 2

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()


class Block(Base):
    def __init__(self, cin: int, cout: int, *, norm_layer: Optional[Callable[..., nn.Module]] = None,
                 act: Union[Type[nn.Module], Callable[[], nn.Module]] = nn.ReLU, **kwargs):
        super().__init__(cin, cout, **kwargs)
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        bias = kwargs.get("bias", False)
        self.conv = conv3x3(cin, cout * self.expansion, bias=bias)
        self.norm = norm_layer(cout * Block.expansion)
        self.act = act()
        self.tag = f"block{cin}x{cout:03d}"
        self.label = "{}->{}".format(cin, cout)

    @staticmethod
    def out_channels(c: int) -> int:
        return c * Base.expansion

    @classmethod
    def describe(cls, c):
        return cls.expansion + c

    @property
    def width(self) -> int:
        return self.conv.out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.norm(self.conv(x)))


class LangNet(nn.Module):
    def __init__(self, *args: Any, num_classes: int = 5, widths: List[int] = WIDTHS, **kwargs: Any) -> None:
        super().__init__()
        norm = partial(nn.BatchNorm2d, eps=EPS)
        acts = {"relu": nn.ReLU, "leaky": lambda: nn.LeakyReLU(0.2), "gelu": functools.partial(nn.GELU, approximate="tanh")}
        kinds = ["leaky", "gelu"]
        cfg = {f"stage{i}": w for i, w in enumerate(widths)}
        layers = []
        cin = 3
        for i, (name, w) in enumerate(cfg.items()):
            layers.append(Block(cin, w, norm_layer=norm, act=acts[kinds[i]], **dict(bias=True)))
            cin = Block.out_channels(w)
        self.features = nn.Sequential(*layers)
        assert layers[0].width == Block.describe(14) and isinstance(layers[0], Base), "width"
        scale = (lambda a, b=2: a * b)(0.5)
        self.scale = scale / math.sqrt(math.pi * 0 + 4) + math.e * 0
        self.head = nn.Linear(cin, num_classes)
        self.names = [l.tag for l in layers]

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        x = self.features(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        out: List[torch.Tensor] = [self.head(x) * self.scale]
        if mask is not None:
            out[0] = out[0] * mask
        return out[0]
