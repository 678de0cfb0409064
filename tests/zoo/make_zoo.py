#!/usr/bin/python3
"""Builds torchvision (Debian's python3-torchvision 0.14) models as a test corpus
for mlopt: weights like trained ones, saved as TorchScript into OUTDIR, plus
OUTDIR/zoo.txt with one line per model: `name spec` (the --input spec).

Nothing is left at its initial value where that could hide a bug: BatchNorm
running statistics come from forward passes in train mode on random data,
BatchNorm affine parameters and every bias are perturbed, so no bias is zero
and no variance is one. Each model is scripted (traced when it cannot be).

  /usr/bin/python3 tests/zoo/make_zoo.py OUTDIR [--fast] [--only NAME,...]

--fast: the quick subset (resnet18, fcn_resnet50 at a small input,
lraspp_mobilenet_v3_large). Without it: the classification and segmentation
models of the zoo up to ~150M parameters. Models already in OUTDIR are kept."""
import argparse
import os
import sys

import torch
import torchvision.models as M
from torchvision.models import segmentation

# name -> (constructor, input shape [N, C, H, W], extra keyword arguments)
FAST = {
    'resnet18': (M.resnet18, [1, 3, 96, 96], {}),
    'fcn_resnet50': (segmentation.fcn_resnet50, [1, 3, 64, 64], {'aux_loss': True, 'weights_backbone': None}),
    'lraspp_mobilenet_v3_large': (segmentation.lraspp_mobilenet_v3_large, [1, 3, 96, 96], {'weights_backbone': None}),
}

CLASSIFICATION = [
    'alexnet', 'convnext_tiny', 'densenet121', 'efficientnet_b0', 'efficientnet_v2_s', 'googlenet', 'inception_v3',
    'mnasnet0_5', 'mobilenet_v2', 'mobilenet_v3_large', 'mobilenet_v3_small', 'regnet_x_400mf', 'regnet_y_400mf',
    'resnet18', 'resnet50', 'resnext50_32x4d', 'shufflenet_v2_x1_0', 'squeezenet1_0', 'squeezenet1_1', 'swin_t',
    'vgg11_bn', 'vit_b_16', 'wide_resnet50_2', 'maxvit_t',
]
SEGMENTATION = ['fcn_resnet50', 'deeplabv3_resnet50', 'deeplabv3_mobilenet_v3_large', 'lraspp_mobilenet_v3_large']


def full_zoo():
    zoo = {}
    for name in CLASSIFICATION:
        size = 299 if name == 'inception_v3' else 224
        extra = {'aux_logits': False, 'init_weights': False} if name in ('googlenet', 'inception_v3') else {}
        zoo[name] = (getattr(M, name), [1, 3, size, size], extra)
    for name in SEGMENTATION:
        extra = {'weights_backbone': None}
        if name.startswith(('fcn', 'deeplabv3_resnet')):
            extra['aux_loss'] = True
        zoo[name] = (getattr(segmentation, name), [1, 3, 128, 128], extra)
    return zoo


@torch.no_grad()
def make_trained_like(model, shape):
    """Running statistics from a few train-mode passes; affine params and biases perturbed."""
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None  # a cumulative average over the passes
            if m.affine:
                m.weight.mul_(1 + 0.2 * torch.randn_like(m.weight))
                m.bias.add_(0.1 * torch.randn_like(m.bias))
        elif getattr(m, 'bias', None) is not None and isinstance(m.bias, torch.Tensor):
            m.bias.add_(0.05 * torch.randn_like(m.bias))
    model.train()
    batch = [max(2, shape[0])] + shape[1:]
    for _ in range(3):
        model(torch.randn(batch) * 1.5 + 0.2)
    return model.eval()


def to_torchscript(model, shape):
    try:
        return torch.jit.script(model), 'scripted'
    except Exception as e:  # noqa: BLE001 - any scripting failure falls back to tracing
        print(f'  scripting failed ({str(e).splitlines()[0]}), tracing', file=sys.stderr)
        return torch.jit.trace(model, torch.randn(shape), strict=False), 'traced'


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('outdir')
    parser.add_argument('--fast', action='store_true')
    parser.add_argument('--only', default='')
    args = parser.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    zoo = FAST if args.fast else full_zoo()
    if args.only:
        zoo = {k: v for k, v in zoo.items() if k in args.only.split(',')}
    torch.manual_seed(0)
    lines = []
    for name, (ctor, shape, extra) in zoo.items():
        path = os.path.join(args.outdir, name + '.pt')
        spec = 'x:batch=' + 'x'.join(str(d) for d in shape)
        if not os.path.exists(path):
            print(f'zoo: {name}', file=sys.stderr)
            model = make_trained_like(ctor(weights=None, **extra), shape)
            ts, how = to_torchscript(model, shape)
            ts.save(path + '.tmp')
            os.replace(path + '.tmp', path)
        lines.append(f'{name} {spec}')
    with open(os.path.join(args.outdir, 'zoo.txt'), 'w') as f:
        f.write('\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()
