#!/usr/bin/python3
"""PyTorch's own static int8 (FX graph mode, onednn qconfig) of zoo models, as the reference for mlopt's figures.

  /usr/bin/python3 tests/zoo/fx_reference.py ZOO_DIR MODEL [MODEL...]

ZOO_DIR is a folder tests/zoo/make_zoo.py filled (scripts/zoo.sh: build/tests/zoo-full). Each model's weights
are read from its scripted archive into torchvision's eager model; FX quantizes it, calibrated on 8 batches of
N(0, 1) inputs at the zoo's input size (what `mlopt quantize` does without --calibration), and the output SQNR
and top-1 agreement against float are measured on 4 more. A low figure here and in mlopt's report is the
weights' sensitivity, not a quantizer bug. Classification and segmentation models.
"""
import copy
import json
import os
import sys

import torch
import torch.nn.functional as F
import torchvision
from torch.ao.quantization import get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx


class Segmentation(torch.nn.Module):
    """The 'out' map only, upsampled as torchvision does (FX traces no dict outputs)."""

    def __init__(self, m):
        super().__init__()
        self.backbone, self.classifier = m.backbone, m.classifier
        self.whole = isinstance(m, torchvision.models.segmentation.LRASPP)  # its head reads every feature map

    def forward(self, x):
        features = self.backbone(x)
        y = self.classifier(features if self.whole else features["out"])
        return F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)


def eager_model(zoo, name, family):
    scripted = torch.jit.load(os.path.join(zoo, name + ".pt"))
    if family == "segmentation":
        m = getattr(torchvision.models.segmentation, name)(weights=None, weights_backbone=None)
        m.load_state_dict(scripted.state_dict(), strict=False)  # aux_classifier: not in the 'out' path
        return Segmentation(m.eval()).eval()
    m = getattr(torchvision.models, name)()
    m.load_state_dict(scripted.state_dict())
    return m.eval()


def sqnr_db(a, b):
    return (10 * torch.log10(a.pow(2).sum() / (a - b).pow(2).sum())).item()


def main():
    zoo, names = sys.argv[1], sys.argv[2:]
    entries = {m["name"]: m for m in json.load(open(os.path.join(zoo, "zoo.json")))}
    torch.backends.quantized.engine = "onednn"
    for name in names:
        entry = entries[name]
        shape = [int(d) for d in entry["spec"].split("=")[-1].split("x")]
        shape[0] = 4 if entry["family"] == "classification" else 1
        model = eager_model(zoo, name, entry["family"])
        torch.manual_seed(1)
        calibration = [torch.randn(*shape) for _ in range(8)]
        test = [torch.randn(*shape) for _ in range(4)]
        prepared = prepare_fx(copy.deepcopy(model), get_default_qconfig_mapping("onednn"), example_inputs=(calibration[0],))
        with torch.no_grad():
            for x in calibration:
                prepared(x)
            quantized = convert_fx(prepared)
            want = torch.cat([model(x) for x in test])
            got = torch.cat([quantized(x) for x in test])
        top1 = (want.argmax(1) == got.argmax(1)).float().mean().item()
        print(json.dumps({"model": name, "fx_static_sqnr_db": round(sqnr_db(want, got), 2),
                          "fx_top1_agreement": round(top1, 4)}))


if __name__ == "__main__":
    main()
