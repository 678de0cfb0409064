# mlopt example model: class DigitsStudent (small student CNN for 8x8 digits; >=5x fewer params than DigitsCNN)
#   mlopt script examples/models/digits_student.py --class DigitsStudent -o digits_student.pt
#   suggested --input x:batch=1x1x8x8:float32
#   init args: num_classes=10, width=8
import torch
import torch.nn as nn
import torch.nn.functional as F


class DigitsStudent(nn.Module):
    def __init__(self, num_classes: int = 10, width: int = 8):
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(width, width * 2, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(width * 2 * 2 * 2, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.fc(x)
