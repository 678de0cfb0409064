import torch
from torch import nn
class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = N()
    def forward(self, x):
        return x
class N(nn.Module):
    def __init__(self):
        super().__init__()
        self.b = M()
    def forward(self, x):
        return x
