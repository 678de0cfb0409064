# A model written with trailing commas wherever Python allows them.
import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIG = {
    "hidden": 12,
    "classes": 3,  # a comment after the last entry
}
WIDTHS = [8, CONFIG["hidden"],]


def scale(x, factor: float = 0.5,):
    return x * factor


class TrailingCommas(nn.Module):
    def __init__(self, in_features: int = 8, config=CONFIG,):
        super().__init__()
        names = {"first": 0, "second": 1,}
        self.body = nn.Sequential(
            nn.Linear(in_features, config["hidden"],),
            nn.ReLU(),
        )
        self.head = nn.Linear(
            config["hidden"],
            config["classes"],
        )
        self.index = names["second"]
        self.shape = (1,)

    def forward(self, x,):
        y = self.body(x,)
        parts = [y, scale(y, 2.0,),]
        y = torch.stack(parts, dim=0,).sum(dim=0,)
        return F.log_softmax(self.head(y,), dim=-1,)
