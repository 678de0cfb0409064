import torch.nn as nn


def make_norm(width):
    return nn.BatchNorm2d(width)


class ResBlock(nn.Module):
    def __init__(self, width, act=nn.ReLU):
        super().__init__()
        self.conv = nn.Conv2d(width, width, 3, padding=1)
        self.norm = make_norm(width)
        self.act = act()

    def forward(self, x):
        return x + self.act(self.norm(self.conv(x)))
