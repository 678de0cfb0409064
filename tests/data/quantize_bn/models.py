# Small models with every BatchNorm fold path of `mlopt quantize`, compiled by mlopt (.py + --weights) and
# scripted by PyTorch (.pt) in tests/fixtures/make_quantize_bn_fixtures.py, which also gives them
# trained-like BatchNorm statistics. Input x:batch=Nx3x16x16 (Conv1dNet: x:batch=Nx4x32).
import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvBN(nn.Module):
    def __init__(self, cin: int, cout: int, bias: bool = False, relu: bool = True, stride: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=bias)
        self.bn = nn.BatchNorm2d(cout)
        if relu:
            self.act = nn.ReLU()
        else:
            self.act = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class ConvBnNet(nn.Module):
    """Conv+BN, Conv+BN+ReLU, pool, Linear: bias=False is ResNet's pattern."""

    def __init__(self, bias: bool = False):
        super().__init__()
        self.block1 = ConvBN(3, 16, bias, False)
        self.block2 = ConvBN(16, 16, bias, True)
        self.fc = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block2(self.block1(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class LinearBnNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(48, 64)
        self.bn1 = nn.BatchNorm1d(64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(F.adaptive_avg_pool2d(x, 4), 1)
        return self.fc2(F.relu(self.bn1(self.fc1(x))))


class Conv1dNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 16, 5, padding=2, bias=False)
        self.bn = nn.BatchNorm1d(16)
        self.fc = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn(self.conv(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool1d(x, 1), 1))


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))
        else:
            self.downsample = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.downsample(x))


class ResNetLike(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = ConvBN(3, 8)
        self.layer1 = BasicBlock(8, 8, 1)
        self.layer2 = BasicBlock(8, 16, 2)
        self.fc = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layer2(self.layer1(self.stem(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class TwinBlocksNet(nn.Module):
    """Three equal BasicBlocks: torch.jit.script gives them one TorchScript class."""

    def __init__(self):
        super().__init__()
        self.stem = ConvBN(3, 8)
        self.blocks = nn.Sequential(BasicBlock(8, 8), BasicBlock(8, 8), BasicBlock(8, 8))
        self.fc = nn.Linear(8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def stochastic_depth(input: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """torchvision.ops.stochastic_depth's logic (mode "row"): identity in eval mode."""
    if not training or p == 0.0:
        return input
    survival_rate = 1.0 - p
    size = [input.shape[0]] + [1] * (input.ndim - 1)
    noise = torch.empty(size, dtype=input.dtype, device=input.device).bernoulli_(survival_rate)
    return input * noise.div_(survival_rate)


class StochasticDepth(nn.Module):
    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return stochastic_depth(x, self.p, self.training)


class DropPathNet(nn.Module):
    """Residual ConvBN blocks through stochastic depth (EfficientNet's, ConvNeXt's and Swin's pattern)."""

    def __init__(self):
        super().__init__()
        self.stem = ConvBN(3, 8)
        self.block1 = ConvBN(8, 8, relu=False)
        self.drop1 = StochasticDepth(0.2)
        self.block2 = ConvBN(8, 8, relu=False)
        self.drop2 = StochasticDepth(0.1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = x + self.drop1(self.block1(x))
        x = x + self.drop2(self.block2(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class FlagBlock(nn.Module):
    """MobileNetV2's InvertedResidual pattern: a residual only where the block's flag says so."""

    def __init__(self, use_res_connect: bool):
        super().__init__()
        self.use_res_connect = use_res_connect
        self.conv = nn.Sequential(ConvBN(8, 8), ConvBN(8, 8, relu=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


class FlagBlocksNet(nn.Module):
    """Two blocks of one TorchScript class whose flags differ."""

    def __init__(self):
        super().__init__()
        self.stem = ConvBN(3, 8)
        self.block1 = FlagBlock(True)
        self.block2 = FlagBlock(False)
        self.fc = nn.Linear(8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block2(self.block1(self.stem(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class SqueezeExcitationNet(nn.Module):
    """MobileNetV3's squeeze-excitation at its widest: 1x1 convolutions of a pooled 960-channel input."""

    def __init__(self):
        super().__init__()
        self.stem = ConvBN(3, 960)
        self.fc1 = nn.Conv2d(960, 240, 1)
        self.fc2 = nn.Conv2d(240, 960, 1)
        self.fc = nn.Linear(960, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        scale = torch.sigmoid(self.fc2(F.relu(self.fc1(F.adaptive_avg_pool2d(x, 1)))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x * scale, 1), 1))


class UNetLike(nn.Module):
    """Two levels, ConvTranspose2d upsampling (up1), skip concat; per-pixel output [N, 2, 16, 16]."""

    def __init__(self):
        super().__init__()
        self.enc1 = nn.Sequential(ConvBN(3, 8), ConvBN(8, 8))
        self.enc2 = nn.Sequential(ConvBN(8, 16), ConvBN(16, 16))
        self.up1 = nn.ConvTranspose2d(16, 8, 2, stride=2)
        self.dec1 = nn.Sequential(ConvBN(16, 8), ConvBN(8, 8))
        self.head = nn.Conv2d(8, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        d1 = self.dec1(torch.cat([self.up1(e2), e1], 1))
        return self.head(d1)


class InvertedResidualNet(nn.Module):
    """MobileNetV2's pattern: Conv+BN+ReLU6 (in place, as torchvision writes it), an inverted residual (1x1
    expand, depthwise 3x3, 1x1 project), then hardtanh and clamp written out of place."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU6(inplace=True))
        self.expand = nn.Sequential(nn.Conv2d(16, 64, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU6(inplace=True))
        self.depthwise = nn.Sequential(nn.Conv2d(64, 64, 3, padding=1, groups=64, bias=False), nn.BatchNorm2d(64),
                                       nn.Hardtanh(0.0, 6.0))
        self.project = nn.Sequential(nn.Conv2d(64, 16, 1, bias=False), nn.BatchNorm2d(16))
        self.head = nn.Conv2d(16, 32, 1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = x + self.project(self.depthwise(self.expand(x)))
        x = torch.clamp(self.head(x), 0.0, 6.0)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class SiluNet(nn.Module):
    """EfficientNet's pattern: Conv+BN+SiLU (in place, as torchvision writes it), depthwise Conv+BN+SiLU,
    squeeze-excitation (SiLU, sigmoid gate), project."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.SiLU(inplace=True))
        self.depthwise = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False), nn.BatchNorm2d(16),
                                       nn.SiLU(inplace=True))
        self.fc1 = nn.Conv2d(16, 4, 1)
        self.fc2 = nn.Conv2d(4, 16, 1)
        self.squeeze_act = nn.SiLU()
        self.project = nn.Sequential(nn.Conv2d(16, 16, 1, bias=False), nn.BatchNorm2d(16))
        self.fc = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        y = self.depthwise(x)
        gate = torch.sigmoid(self.fc2(self.squeeze_act(self.fc1(F.adaptive_avg_pool2d(y, 1)))))
        x = x + self.project(y * gate)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class AliasedSiluNet(nn.Module):
    """In-place SiLUs whose input is read again: by the caller after the call (`act(x) + x` is twice the
    SiLU, x being activated in place) and inside forward (`F.silu(y, inplace=True)` then y)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.act = nn.SiLU(inplace=True)
        self.fc = nn.Linear(8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        x = self.act(x) + x
        y = x * 0.5
        z = F.silu(y, inplace=True)
        x = z * y
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))
