#!/usr/bin/python3
"""Builds torchvision (Debian's python3-torchvision 0.14) models as a test corpus
for mlopt: weights like trained ones, saved as TorchScript into OUTDIR, each
also exported by PyTorch's own exporter (torch.onnx.export, opset 17) to
NAME.torch.onnx for the comparison table, and OUTDIR/zoo.json listing them:
  [{"name", "family", "spec" (the --input specs), "sizes" (the second size the
    dynamic dims are run at, none when the graph is static), "how" (scripted |
    traced), "torch_onnx" ("ok" or PyTorch's one-line error)}]

Nothing is left at its initial value where that could hide a bug: BatchNorm
running statistics come from forward passes in train mode on random data
(detection and optical-flow models, which cannot run in train mode without
targets, get theirs, FrozenBatchNorm2d's included, from one calibrating
eval-mode pass: each layer takes the statistics of the input it sees), affine parameters and every bias are perturbed, so no bias is zero
and no variance is one, and no parameter is left constant (a zero classifier
head, unit LayerNorm weights, ConvNeXt's 1e-6 layer scales: see
vary_constant_parameters). Each model is scripted (traced when it cannot be).
Detection models take one batched image tensor (a wrapper unbinds it into the
list torchvision expects) and return their detections; RAFT runs 4 flow updates.

  /usr/bin/python3 tests/zoo/make_zoo.py OUTDIR [--fast] [--only NAME,...] [--family F,...]

--fast: the quick subset run in every CI run (resnet18, lraspp_mobilenet_v3_large,
r3d_18 at a small clip). Without it: every classification, segmentation, video,
detection and optical-flow model of the zoo up to ~150M parameters. Models
already in OUTDIR are kept."""
import argparse
import json
import os
import sys
import warnings

import torch
import torchvision.models as M
from torchvision.models import detection, optical_flow, segmentation, video

CLASSIFICATION = [
    'alexnet', 'convnext_tiny', 'densenet121', 'efficientnet_b0', 'efficientnet_v2_s', 'googlenet', 'inception_v3',
    'mnasnet0_5', 'mobilenet_v2', 'mobilenet_v3_large', 'mobilenet_v3_small', 'regnet_x_400mf', 'regnet_y_400mf',
    'resnet18', 'resnet50', 'resnext50_32x4d', 'shufflenet_v2_x1_0', 'squeezenet1_0', 'squeezenet1_1', 'swin_t',
    'vgg11_bn', 'vit_b_16', 'wide_resnet50_2', 'maxvit_t',
]
SEGMENTATION = ['fcn_resnet50', 'deeplabv3_resnet50', 'deeplabv3_mobilenet_v3_large', 'lraspp_mobilenet_v3_large']
# name -> clip shape [N, C, T, H, W]: the MViTs' positional embeddings fix 16x224x224; S3D needs 224.
VIDEO = {
    'r3d_18': [1, 3, 8, 112, 112], 'mc3_18': [1, 3, 8, 112, 112], 'r2plus1d_18': [1, 3, 8, 112, 112],
    's3d': [1, 3, 16, 224, 224], 'mvit_v1_b': [1, 3, 16, 224, 224], 'mvit_v2_s': [1, 3, 16, 224, 224],
}
# name -> image size (square), small to keep the corpus quick.
DETECTION = {
    'ssd300_vgg16': 300, 'ssdlite320_mobilenet_v3_large': 320, 'retinanet_resnet50_fpn': 320, 'fcos_resnet50_fpn': 320,
    'fasterrcnn_mobilenet_v3_large_320_fpn': 320, 'maskrcnn_resnet50_fpn': 320, 'keypointrcnn_resnet50_fpn': 320,
}

# Score thresholds low enough that untrained heads (class scores near their prior,
# ~0.01) still give detections, so an export is compared on non-empty outputs.
DETECTION_THRESHOLDS = {
    'retinanet_resnet50_fpn': {'score_thresh': 0.005}, 'fcos_resnet50_fpn': {'score_thresh': 0.05},
    'fasterrcnn_mobilenet_v3_large_320_fpn': {'box_score_thresh': 0.005},
    'maskrcnn_resnet50_fpn': {'box_score_thresh': 0.005},
}


class Detector(torch.nn.Module):
    """One batched image tensor in (torchvision wants a list), the detections out:
    a list with one dict (boxes, scores, labels[, masks, keypoints]) per image."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor):
        images = [image for image in x.unbind(0)]
        out = self.model(images)
        if isinstance(out, tuple):  # scripted: (losses, detections)
            return out[1]
        return out


class Flow(torch.nn.Module):
    """RAFT on two frames, 4 flow updates: the list of flow estimates."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, image1: torch.Tensor, image2: torch.Tensor):
        return self.model(image1, image2, num_flow_updates=4)


def entry(family, ctor, shapes, sizes, wrap=None, extra=None):
    return {'family': family, 'ctor': ctor, 'shapes': shapes, 'sizes': sizes, 'wrap': wrap, 'extra': extra or {}}


def full_zoo():
    zoo = {}
    for name in CLASSIFICATION:
        size = 299 if name == 'inception_v3' else 224
        extra = {'aux_logits': False, 'init_weights': False} if name in ('googlenet', 'inception_v3') else {}
        zoo[name] = entry('classification', getattr(M, name), {'x': [1, 3, size, size]}, 2, extra=extra)
    for name in SEGMENTATION:
        extra = {'weights_backbone': None}
        if name.startswith(('fcn', 'deeplabv3_resnet')):
            extra['aux_loss'] = True
        zoo[name] = entry('segmentation', getattr(segmentation, name), {'x': [1, 3, 128, 128]}, 2, extra=extra)
    for name, shape in VIDEO.items():
        zoo[name] = entry('video', getattr(video, name), {'x': shape}, 2)
    for name, size in DETECTION.items():
        extra = {'weights_backbone': None, **DETECTION_THRESHOLDS.get(name, {})}
        zoo[name] = entry('detection', getattr(detection, name), {'x': [1, 3, size, size]}, None, Detector, extra)
    zoo['raft_small'] = entry('optical flow', optical_flow.raft_small,
                              {'image1': [1, 3, 128, 128], 'image2': [1, 3, 128, 128]}, 2, Flow)
    return zoo


def fast_zoo():
    zoo = full_zoo()
    fast = {k: zoo[k] for k in ('resnet18', 'lraspp_mobilenet_v3_large', 'r3d_18')}
    fast['resnet18']['shapes'] = {'x': [1, 3, 96, 96]}
    fast['lraspp_mobilenet_v3_large']['shapes'] = {'x': [1, 3, 96, 96]}
    fast['r3d_18']['shapes'] = {'x': [1, 3, 4, 64, 64]}
    return fast


def statistics_modules(model):
    return [m for m in model.modules() if hasattr(m, 'running_mean') and isinstance(m.running_mean, torch.Tensor)]


def example_batch(e, batch=2):
    return [torch.randn([max(batch, s[0])] + s[1:]) * 1.5 + 0.2 for s in e['shapes'].values()]


@torch.no_grad()
def calibrate_statistics(model, e):
    """Models that cannot run in train mode without targets (detection, optical
    flow): every layer's running statistics (FrozenBatchNorm2d's included) are
    set, layer by layer in one eval-mode pass, to the statistics of the input
    that layer sees, then perturbed. Perturbing initial statistics instead
    leaves the features all but constant over the image (std ~1e-4 after an
    untrained ResNet), every anchor scoring the same: ties that make any two
    correct detectors disagree."""
    def set_from_input(m, args):
        x = args[0]
        dims = [d for d in range(x.dim()) if d != 1]
        m.running_mean.copy_(x.mean(dims) + 0.05 * torch.randn_like(m.running_mean))
        m.running_var.copy_(x.var(dims, unbiased=False) * torch.empty_like(m.running_var).uniform_(0.8, 1.25) + 1e-3)
    hooks = [m.register_forward_pre_hook(set_from_input) for m in statistics_modules(model)]
    model.eval()
    inputs = example_batch(e, 2)
    if e['wrap'] is Detector:
        model([image for image in inputs[0]])
    else:
        model(*inputs)
    for h in hooks:
        h.remove()


@torch.no_grad()
def temper_class_logits(model, e, spread=2.0):
    """SSD300's VGG has no normalization layers to calibrate: untrained, its class
    logits reach +-100, every softmax score is 0 or 1, and detections tie. A
    trained detector's logits spread over a few units: each class-logit conv is
    scaled so that its outputs have standard deviation `spread`."""
    convs = [m for m in getattr(getattr(getattr(model, 'head', None), 'classification_head', None),
                                'module_list', []) if isinstance(m, torch.nn.Conv2d)]
    if not convs:
        return
    spreads = {}
    hooks = [c.register_forward_hook(lambda m, args, out: spreads.__setitem__(m, out.std().item())) for c in convs]
    model.eval()
    model([image for image in example_batch(e, 2)[0]])
    for h in hooks:
        h.remove()
    for c in convs:
        c.weight.mul_(spread / spreads[c])
        c.bias.mul_(spread / spreads[c])


@torch.no_grad()
def make_trained_like(model, e):
    """Running statistics from a few train-mode passes (or, where the model
    cannot run in train mode, from one calibrating pass); affine params and
    biases perturbed."""
    in_train_mode = e['family'] in ('classification', 'segmentation', 'video')
    for m in model.modules():
        if m in statistics_modules(model):
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and in_train_mode:
                m.reset_running_stats()
                m.momentum = None  # a cumulative average over the passes
            if getattr(m, 'weight', None) is not None:
                m.weight.mul_(1 + 0.2 * torch.randn_like(m.weight))
                m.bias.add_(0.1 * torch.randn_like(m.bias))
        elif getattr(m, 'bias', None) is not None and isinstance(m.bias, torch.Tensor):
            m.bias.add_(0.05 * torch.randn_like(m.bias))
    vary_constant_parameters(model)
    if in_train_mode:
        model.train()
        for _ in range(3):
            model(*example_batch(e))
    else:
        calibrate_statistics(model, e)
        if e['wrap'] is Detector:
            temper_class_logits(model, e)
    return model.eval()


@torch.no_grad()
def vary_constant_parameters(model):
    """Every parameter still constant after the passes above is initial, and
    hides bugs: ViT's zero classifier head makes every output its bias (a
    quantized model then "matches" float at 150 dB), LayerNorm's unit weights
    and MultiheadAttention's zero in_proj_bias are the unit variances and zero
    biases BatchNorm had, and ConvNeXt's layer scales at 1e-6 turn its blocks
    into identities (trained ones reach ~0.1-1). A zero weight matrix gets
    values at 1/sqrt(fan-in), a near-zero constant values in [0.1, 0.5], any
    other constant 20% noise; a zero vector (a bias, a class token) 0.05 noise."""
    for p in model.parameters():
        if p.numel() < 2 or p.std().item() > 0:
            continue
        value = p.flatten()[0].item()
        if value == 0 and p.dim() >= 2:
            p.normal_(0, (p[0].numel()) ** -0.5)
        elif value == 0:
            p.normal_(0, 0.05)
        elif abs(value) < 1e-3:
            p.uniform_(0.1, 0.5)
        else:
            p.mul_(1 + 0.2 * torch.randn_like(p))


def to_torchscript(model, inputs):
    try:
        return torch.jit.script(model), 'scripted'
    except Exception as e:  # noqa: BLE001 - any scripting failure falls back to tracing
        print(f'  scripting failed ({str(e).strip().splitlines()[0]}), tracing', file=sys.stderr)
        return torch.jit.trace(model, inputs, strict=False, check_trace=False), 'traced'


def one_line(e):
    lines = [l.strip() for l in str(e).strip().splitlines() if l.strip()]
    return f'{type(e).__name__}: {lines[0] if lines else ""}'[:300]


def torch_onnx_export(model, inputs, names, dynamic, path):
    """PyTorch's exporter on the eager model (its documented path): 'ok' or its error."""
    try:
        axes = {n: {0: 'batch'} for n in names} if dynamic else None
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            torch.onnx.export(model, tuple(inputs), path + '.tmp', opset_version=17, input_names=names,
                              dynamic_axes=axes)
        os.replace(path + '.tmp', path)
        return 'ok'
    except Exception as e:  # noqa: BLE001 - the table reports the exporter's own error
        if os.path.exists(path + '.tmp'):
            os.remove(path + '.tmp')
        return one_line(e)


def make(name, e, outdir):
    path = os.path.join(outdir, name + '.pt')
    meta_path = os.path.join(outdir, name + '.json')
    if os.path.exists(path) and os.path.exists(meta_path):
        with open(meta_path) as f:
            return json.load(f)
    print(f'zoo: {name}', file=sys.stderr)
    torch.manual_seed(0)
    model = e['ctor'](weights=None, **e['extra'])
    model = make_trained_like(model, e)
    if e['wrap']:
        model = e['wrap'](model).eval()
    names = list(e['shapes'])
    inputs = [torch.randn(s) for s in e['shapes'].values()]
    ts, how = to_torchscript(model, inputs)
    ts.save(path + '.tmp')
    os.replace(path + '.tmp', path)
    # Static graphs (traced detection models) are run at their example size only.
    sizes = e['sizes'] if (how == 'scripted' or e['family'] != 'detection') else None
    spec = ' '.join(f'{n}:batch=' + 'x'.join(str(d) for d in s) for n, s in e['shapes'].items())
    if e['family'] == 'detection':
        spec = ' '.join(f'{n}:' + 'x'.join(str(d) for d in s) for n, s in e['shapes'].items())
    print(f'  torch.onnx.export {name}', file=sys.stderr)
    status = torch_onnx_export(model, inputs, names, e['family'] != 'detection',
                               os.path.join(outdir, name + '.torch.onnx'))
    meta = {'name': name, 'family': e['family'], 'spec': spec, 'sizes': sizes, 'how': how, 'torch_onnx': status,
            'params': sum(p.numel() for p in model.parameters())}
    with open(meta_path + '.tmp', 'w') as f:
        json.dump(meta, f)
    os.replace(meta_path + '.tmp', meta_path)
    return meta


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('outdir')
    parser.add_argument('--fast', action='store_true')
    parser.add_argument('--only', default='')
    parser.add_argument('--family', default='')
    args = parser.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    zoo = fast_zoo() if args.fast else full_zoo()
    if args.only:
        zoo = {k: v for k, v in zoo.items() if k in args.only.split(',')}
    if args.family:
        zoo = {k: v for k, v in zoo.items() if v['family'] in args.family.split(',')}
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    listing = [make(name, e, args.outdir) for name, e in zoo.items()]
    with open(os.path.join(args.outdir, 'zoo.json'), 'w') as f:
        json.dump(listing, f, indent=1)


if __name__ == '__main__':
    main()
