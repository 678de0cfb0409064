"""Model classes deriving from user base classes: inherited and overridden
__init__, forward and helper methods (written for mlopt's tests)."""
import torch
import torch.nn as nn


class BaseNet(nn.Module):
    def __init__(self, in_features, hidden):
        super().__init__()
        self.encoder = nn.Linear(in_features, hidden)
        self.act = nn.ReLU()

    def encode(self, x):
        return self.act(self.encoder(x))

    def forward(self, x):
        return self.encode(x)


class Classifier(BaseNet):
    def __init__(self, in_features: int = 8, hidden: int = 16, classes: int = 3):
        super(Classifier, self).__init__(in_features, hidden)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.head(self.encode(x))


class WideClassifier(Classifier):
    """Inherits __init__ and forward; overrides the helper forward calls."""

    def encode(self, x):
        return self.act(self.encoder(x)) * 2.0 + 0.5
