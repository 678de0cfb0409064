# A linear regressor on the 8x8 digits (tests/fixtures/make_registry_fixtures.py fits its weights): the digit's
# value as one number, for the drift tests of regressor outputs (tests/registry/regressor_drift_test.cpp).
import torch
import torch.nn as nn


class DigitsRegressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(64, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(torch.flatten(x, 1))
