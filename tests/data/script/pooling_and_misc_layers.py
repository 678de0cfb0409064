"""Pooling in 1-3 dims, recurrent and bag layers, distances and the smaller
torch.nn layers, written as a model file would use them (one tensor in, one out)."""
import torch
import torch.nn as nn


class LayerTour(nn.Module):
    def __init__(self):
        super().__init__()
        self.max1 = nn.MaxPool1d(2)
        self.avg1 = nn.AvgPool1d(3, stride=2, padding=1)
        self.lp1 = nn.LPPool1d(2, 4)
        self.adapt_avg1 = nn.AdaptiveAvgPool1d(5)
        self.adapt_max1 = nn.AdaptiveMaxPool1d(3)
        self.max3 = nn.MaxPool3d(2)
        self.avg3 = nn.AvgPool3d((1, 2, 2), count_include_pad=False)
        self.adapt_avg3 = nn.AdaptiveAvgPool3d((1, 2, 2))
        self.adapt_max2 = nn.AdaptiveMaxPool2d((2, 3))
        self.lp2 = nn.LPPool2d(3, 2)
        self.lrn = nn.LocalResponseNorm(3)
        self.shuffle = nn.ChannelShuffle(2)
        self.up_nearest = nn.UpsamplingNearest2d(scale_factor=2)
        self.up_bilinear = nn.UpsamplingBilinear2d(size=(6, 10))
        self.rnn = nn.RNN(8, 6, num_layers=2, nonlinearity="relu", batch_first=True, bidirectional=True)
        self.rnn_tanh = nn.RNN(8, 5)
        self.bilinear = nn.Bilinear(8, 8, 4)
        self.bag = nn.EmbeddingBag(10, 4, mode="sum")
        self.bag_max = nn.EmbeddingBag(10, 3, mode="max", padding_idx=0)
        self.cosine = nn.CosineSimilarity(dim=1)
        self.distance = nn.PairwiseDistance(p=1.5, keepdim=True)

    def forward(self, x):
        seq = x.flatten(2)  # [batch, 4, 64]
        volume = x.unsqueeze(1)  # [batch, 1, 4, 8, 8]
        steps = x.mean(1)  # [batch, 8, 8]: 8 steps of 8 features
        tokens = (x[:, 0, 0, :].abs() * 10).long().clamp(0, 9)  # [batch, 8]
        rnn_out, rnn_h = self.rnn(steps)
        tanh_out, tanh_h = self.rnn_tanh(steps.transpose(0, 1))
        offsets = torch.arange(0, tokens.numel(), 5)
        parts = [
            self.max1(seq), self.avg1(seq), self.lp1(seq), self.adapt_avg1(seq), self.adapt_max1(seq),
            self.max3(volume), self.avg3(volume), self.adapt_avg3(volume),
            self.adapt_max2(x), self.lp2(x.abs()), self.lrn(x), self.lrn(seq), self.shuffle(x),
            self.up_nearest(x), self.up_bilinear(x),
            rnn_out, rnn_h.transpose(0, 1), tanh_out.transpose(0, 1), tanh_h.transpose(0, 1),
            self.bilinear(steps[:, 0], steps[:, 1]),
            self.bag(tokens), self.bag_max(tokens),
            self.bag(tokens.reshape(-1), offsets).reshape(x.size(0), -1),
            self.cosine(x, x.flip(1)), self.distance(steps[:, 0], steps[:, 1]),
        ]
        return torch.cat([p.flatten(1) for p in parts], 1)
