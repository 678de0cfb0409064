# SplitNet again, reaching its parts through module imports rather than names.
import torch
import torch.nn as nn

from . import blocks
import models.layers as L
import models.layers
from sharedlib import act


class SplitNetModules(nn.Module):
    def __init__(self, width: int = 8, classes: int = 3):
        super().__init__()
        self.stem = nn.Conv2d(3, width, 3, padding=1)
        self.blocks = nn.Sequential(blocks.ResBlock(width), blocks.ResBlock(width, act=act.Swish))
        self.norm = blocks.make_norm(width)
        self.attn = L.Attention(width)
        self.head = nn.Linear(width * models.layers.TOKENS, classes)
        assert isinstance(self.blocks[0], blocks.ResBlock)

    def forward(self, x):
        x = self.norm(self.blocks(self.stem(x)))
        tokens = L.to_tokens(x)
        assert tokens.shape[1] == L.TOKENS
        return self.head(self.attn(tokens).flatten(1))
