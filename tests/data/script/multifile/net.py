import torch
import torch.nn as nn

from .blocks import ResBlock, make_norm
from models.layers import Attention, TOKENS
from sharedlib.act import Swish


class SplitNet(nn.Module):
    def __init__(self, width: int = 8, classes: int = 3):
        super().__init__()
        self.stem = nn.Conv2d(3, width, 3, padding=1)
        self.blocks = nn.Sequential(ResBlock(width), ResBlock(width, act=Swish))
        self.norm = make_norm(width)
        self.attn = Attention(width)
        self.head = nn.Linear(width * TOKENS, classes)

    def forward(self, x):
        x = self.norm(self.blocks(self.stem(x)))
        x = nn.functional.adaptive_avg_pool2d(x, 2).flatten(2).transpose(1, 2)  # (B, 4 tokens, width)
        return self.head(self.attn(x).flatten(1))
