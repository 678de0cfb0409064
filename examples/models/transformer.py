# mlopt example model: class TinyTransformer (token classifier: embedding, nn.MultiheadAttention, LayerNorm, GELU)
#   mlopt script examples/models/transformer.py --class TinyTransformer -o transformer.pt
#   suggested --input tokens:batch=1x10:int64:0..50
#   init args: vocab_size=50, d_model=32, num_heads=4, ff_dim=64, num_layers=2, num_classes=3, max_len=64
import math
import torch
import torch.nn as nn
import torch.nn.functional as F


class EncoderBlock(nn.Module):
    def __init__(self, d_model: int, num_heads: int, ff_dim: int, dropout: float = 0.1):
        super().__init__()
        self.attn = nn.MultiheadAttention(d_model, num_heads, dropout=dropout, batch_first=True)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.ff1 = nn.Linear(d_model, ff_dim)
        self.ff2 = nn.Linear(ff_dim, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm1(x)
        a, _ = self.attn(h, h, h, need_weights=False)
        x = x + self.dropout(a)
        h = self.norm2(x)
        x = x + self.dropout(self.ff2(F.gelu(self.ff1(h))))
        return x


class TinyTransformer(nn.Module):
    def __init__(self, vocab_size: int = 50, d_model: int = 32, num_heads: int = 4, ff_dim: int = 64,
                 num_layers: int = 2, num_classes: int = 3, max_len: int = 64):
        super().__init__()
        self.d_model = d_model
        self.embedding = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Parameter(torch.zeros(1, max_len, d_model))
        self.blocks = nn.ModuleList([EncoderBlock(d_model, num_heads, ff_dim) for _ in range(num_layers)])
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, num_classes)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embedding(tokens) * math.sqrt(self.d_model)
        x = x + self.pos[:, : tokens.size(1), :]
        for block in self.blocks:
            x = block(x)
        x = self.norm(x)
        return self.head(x.mean(dim=1))
