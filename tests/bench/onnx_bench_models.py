#!/usr/bin/python3
"""Helpers of tests/bench/onnx_export_vs_torch.sh (Debian python3-torch).
  save  NAME DIR        writes DIR/NAME.pt (TorchScript) and DIR/NAME.npz (inputs); prints the mlopt input spec
  export NAME PT OUT    Python's exporter on the same .pt: torch.onnx.export(opset 17) (timed as a whole process)"""
import sys

import numpy as np
import torch
import torch.nn as nn


def build(name):
    import torchvision.models as tvm
    torch.manual_seed(0)
    vision = {
        'resnet18': tvm.resnet18, 'mobilenet_v2': tvm.mobilenet_v2, 'mobilenet_v3_small': tvm.mobilenet_v3_small,
        'efficientnet_b0': tvm.efficientnet_b0, 'regnet_y_400mf': tvm.regnet_y_400mf,
        'shufflenet_v2_x1_0': tvm.shufflenet_v2_x1_0, 'squeezenet1_0': tvm.squeezenet1_0, 'densenet121': tvm.densenet121,
    }
    if name in vision:
        return vision[name]().eval(), torch.randn(1, 3, 224, 224), 'x:batch=1x3x224x224'
    if name == 'lstm':
        m = nn.LSTM(64, 128, num_layers=2, batch_first=True).eval()
        return m, torch.randn(1, 32, 64), 'x:batch=1x32x64'
    if name == 'transformer_encoder':
        layer = nn.TransformerEncoderLayer(256, 8, 1024, batch_first=True)
        return nn.TransformerEncoder(layer, 4).eval(), torch.randn(1, 64, 256), 'x:batch=1x64x256'
    raise SystemExit(f'unknown model {name}')


def main():
    cmd = sys.argv[1]
    if cmd == 'save':
        name, out = sys.argv[2], sys.argv[3]
        model, x, spec = build(name)
        with torch.no_grad():
            traced = torch.jit.trace(model, x, check_trace=False) if name != 'transformer_encoder' else torch.jit.script(model)
        traced.save(f'{out}/{name}.pt')
        np.savez(f'{out}/{name}.npz', x=x.numpy())
        print(spec)
    elif cmd == 'export':
        name, pt, out = sys.argv[2], sys.argv[3], sys.argv[4]
        module = torch.jit.load(pt)
        x = torch.from_numpy(np.load(pt.replace('.pt', '.npz'))['x'])
        torch.onnx.export(module, (x,), out, opset_version=17, input_names=['x'], output_names=['output'],
                          dynamic_axes={'x': {0: 'batch'}}, do_constant_folding=True)


if __name__ == '__main__':
    main()
