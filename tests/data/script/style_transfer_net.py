"""An image transformation network in the style of fast neural style transfer:
reflection-padded convolutions, instance normalization, residual blocks and
upsampling convolutions (written for mlopt's tests)."""
import torch
import torch.nn as nn


class ConvBlock(nn.Module):
    """Reflection padding keeps the borders free of zero-padding artifacts."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, upsample=None):
        super(ConvBlock, self).__init__()
        self.upsample = nn.Upsample(scale_factor=upsample, mode="nearest") if upsample else nn.Identity()
        self.pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x):
        return self.conv(self.pad(self.upsample(x)))


class ResidualBlock(nn.Module):
    def __init__(self, channels):
        super(ResidualBlock, self).__init__()
        self.conv1 = ConvBlock(channels, channels, kernel_size=3)
        self.in1 = nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = ConvBlock(channels, channels, kernel_size=3)
        self.in2 = nn.InstanceNorm2d(channels, affine=True)
        self.relu = nn.ReLU()

    def forward(self, x):
        residual = x
        out = self.relu(self.in1(self.conv1(x)))
        out = self.in2(self.conv2(out))
        return out + residual


class StyleTransferNet(nn.Module):
    def __init__(self, base: int = 8, blocks: int = 2):
        super(StyleTransferNet, self).__init__()
        # downsampling
        self.conv1 = ConvBlock(3, base, kernel_size=9, stride=1)
        self.in1 = nn.InstanceNorm2d(base, affine=True)
        self.conv2 = ConvBlock(base, base * 2, kernel_size=3, stride=2)
        self.in2 = nn.InstanceNorm2d(base * 2, affine=True)
        # residual layers
        self.res = nn.Sequential(*[ResidualBlock(base * 2) for _ in range(blocks)])
        # upsampling
        self.deconv1 = ConvBlock(base * 2, base, kernel_size=3, stride=1, upsample=2)
        self.in3 = nn.InstanceNorm2d(base, affine=True)
        self.deconv2 = ConvBlock(base, 3, kernel_size=9, stride=1)
        self.relu = nn.ReLU()

    def forward(self, X):
        y = self.relu(self.in1(self.conv1(X)))
        y = self.relu(self.in2(self.conv2(y)))
        y = self.res(y)
        y = self.relu(self.in3(self.deconv1(y)))
        y = self.deconv2(y)
        return y
