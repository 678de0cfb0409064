# mlopt example model: class MLP
#   mlopt script examples/models/mlp.py --class MLP -o mlp.pt
#   suggested --input x:batch=1x16:float32
#   init args: in_features=16, hidden=32, out_features=4, depth=2
import torch
import torch.nn as nn
import torch.nn.functional as F
from typing import List


class MLP(nn.Module):
    def __init__(self, in_features: int = 16, hidden: int = 32, out_features: int = 4, depth: int = 2):
        super().__init__()
        layers: List[nn.Module] = []
        width = in_features
        for _ in range(depth):
            layers.append(nn.Linear(width, hidden))
            layers.append(nn.ReLU())
            width = hidden
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.body(x)
        return F.log_softmax(self.head(x), dim=-1)
