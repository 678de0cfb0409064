import torch
from torch import nn
class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.e = nn.Embedding(10**9, 10**3)
    def forward(self, x):
        return x
