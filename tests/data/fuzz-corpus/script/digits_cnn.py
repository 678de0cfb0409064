# mlopt example model: class DigitsCNN (8x8 grayscale digits, 10 classes, ~40k parameters)
#   mlopt script examples/models/digits_cnn.py --class DigitsCNN -o digits_cnn.pt
#   suggested --input x:batch=1x1x8x8:float32
#   init args: num_classes=10, width=32, dropout=0.1
import torch
import torch.nn as nn
import torch.nn.functional as F


class DigitsCNN(nn.Module):
    def __init__(self, num_classes: int = 10, width: int = 32, dropout: float = 0.1):
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, kernel_size=3, padding=1)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width * 2, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm2d(width * 2)
        self.pool = nn.MaxPool2d(2)
        self.dropout = nn.Dropout(dropout)
        self.fc1 = nn.Linear(width * 2 * 2 * 2, 64)
        self.fc2 = nn.Linear(64, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(F.relu(self.bn1(self.conv1(x))))      # 8x8 -> 4x4
        x = self.pool(F.relu(self.bn2(self.conv2(x))))      # 4x4 -> 2x2
        x = torch.flatten(x, 1)
        x = self.dropout(F.relu(self.fc1(x)))
        return self.fc2(x)
