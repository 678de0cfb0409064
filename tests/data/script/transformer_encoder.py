# A text classifier in the style of PyTorch's word language model: embedding,
# learned positions, nn.TransformerEncoder over nn.TransformerEncoderLayer.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class TransformerClassifier(nn.Module):
    def __init__(self, ntoken: int = 50, d_model: int = 16, nhead: int = 2, d_hid: int = 32, nlayers: int = 2,
                 dropout: float = 0.1, max_len: int = 16):
        super().__init__()
        self.embedding = nn.Embedding(ntoken, d_model)
        self.pos = nn.Parameter(torch.zeros(1, max_len, d_model))
        layer = nn.TransformerEncoderLayer(d_model, nhead, d_hid, dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, nlayers, norm=nn.LayerNorm(d_model))
        pre = nn.TransformerEncoderLayer(d_model, nhead, d_hid, dropout, activation=F.gelu, norm_first=True)
        self.pre_norm = nn.TransformerEncoder(pre, 1)
        self.d_model = d_model
        self.decoder = nn.Linear(d_model, ntoken)

    def forward(self, src: torch.Tensor) -> torch.Tensor:
        x = self.embedding(src) * math.sqrt(self.d_model) + self.pos[:, : src.size(1)]
        x = self.encoder(x)
        x = self.pre_norm(x.transpose(0, 1)).transpose(0, 1)
        return self.decoder(x).mean(1)
