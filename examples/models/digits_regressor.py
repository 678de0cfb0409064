# mlopt example model: class DigitsRegressor, a linear regressor on the 8x8 digits: the digit's value as one
# number ([N, 1]). digits_regressor.pth holds least-squares weights (tests/fixtures/make_digits_regressor_pth.py).
# The regressor of configs/digits-regressor.yaml, whose drift is judged by its value quantiles (docs/monitor.md).
import torch
import torch.nn as nn


class DigitsRegressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(64, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(torch.flatten(x, 1))
