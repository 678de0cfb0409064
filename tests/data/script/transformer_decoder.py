"""Sequence-to-sequence models as people write them: nn.Transformer, and an
nn.TransformerDecoder over an nn.TransformerEncoder's memory with a causal mask."""
import torch
import torch.nn as nn


class Seq2Seq(nn.Module):
    def __init__(self, vocab=50, d_model=16, nhead=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.transformer = nn.Transformer(d_model, nhead, num_encoder_layers=2, num_decoder_layers=2,
                                          dim_feedforward=32, dropout=0.1, batch_first=True)
        layer = nn.TransformerDecoderLayer(d_model, nhead, dim_feedforward=24, activation="gelu", norm_first=True)
        self.decoder = nn.TransformerDecoder(layer, num_layers=2, norm=nn.LayerNorm(d_model))
        self.head = nn.Linear(d_model, vocab)

    def forward(self, tokens):
        src = self.embed(tokens)
        tgt = self.embed(tokens.flip(1))
        causal = torch.triu(torch.full((tokens.size(1), tokens.size(1)), float("-inf")), diagonal=1)
        out = self.transformer(src, tgt, tgt_mask=causal)
        memory = out.transpose(0, 1)
        out = self.decoder(tgt.transpose(0, 1), memory, tgt_mask=causal)
        return self.head(out.transpose(0, 1))
