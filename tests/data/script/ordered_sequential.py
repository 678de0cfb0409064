"""nn.Sequential built from an OrderedDict: children keep their names, so the
state_dict reads features.conv1.weight (written for mlopt's tests)."""
from collections import OrderedDict

import torch
import torch.nn as nn


class NamedLayers(nn.Module):
    def __init__(self, channels: int = 4, classes: int = 3):
        super().__init__()
        self.features = nn.Sequential(OrderedDict([
            ("conv1", nn.Conv2d(3, channels, 3, padding=1)),
            ("norm1", nn.BatchNorm2d(channels)),
            ("relu1", nn.ReLU(inplace=True)),
            ("pool", nn.AdaptiveAvgPool2d(1)),
        ]))
        self.classifier = nn.Sequential(OrderedDict(flatten=nn.Flatten(), fc=nn.Linear(channels, classes)))

    def forward(self, x):
        y = self.features[0](x)
        y = self.features(x) + y.mean(dim=(2, 3), keepdim=True)
        return self.classifier(y)
