# mlopt example model: class ControlFlow (an `if` on tensor values and a data-dependent loop)
#   mlopt script examples/models/control_flow.py --class ControlFlow -o control_flow.pt
#   suggested --input x:batch=1x8:float32
#   init args: features=8, max_steps=4
import torch
import torch.nn as nn
import torch.nn.functional as F


def scaled_tanh(x: torch.Tensor, scale: float) -> torch.Tensor:
    return torch.tanh(x) * scale


class ControlFlow(nn.Module):
    def __init__(self, features: int = 8, max_steps: int = 4):
        super().__init__()
        self.max_steps = max_steps
        self.step = nn.Linear(features, features)
        self.out = nn.Linear(features, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if bool(x.sum() > 0):
            x = F.relu(x)
        else:
            x = -x
        for i in range(self.max_steps):
            x = scaled_tanh(self.step(x), 1.0 + 0.5 * i)
            if bool(x.abs().mean() < 0.1):
                break
        return self.out(x)
