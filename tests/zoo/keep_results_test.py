#!/usr/bin/python3
"""tests/zoo/keep_results.py: runs of parts of the zoo add up step by step; a
new input size replaces the kept row; a skipped step keeps the kept figure. Run by ctest (zoo_keep_results)."""
import json
import os
import subprocess
import sys
import tempfile

KEEP = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'keep_results.py')


def write_run(root, name, result):
    os.makedirs(os.path.join(root, 'results'), exist_ok=True)
    with open(os.path.join(root, 'results', name + '.json'), 'w') as f:
        json.dump(result, f)


def keep(run, kept, *extra):
    subprocess.run([sys.executable, KEEP, run, kept, *extra], check=True, capture_output=True)
    with open(os.path.join(kept, 'results', 'resnet18.json')) as f:
        return json.load(f)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        kept = os.path.join(tmp, 'kept')
        row = {'name': 'resnet18', 'family': 'classification', 'spec': 'x:batch=1x3x224x224', 'how': 'h', 'params': 1}
        write_run(os.path.join(tmp, 'a'), 'resnet18', dict(row, export={'exit': 0}, prune={'exit': 1}))
        first = keep(os.path.join(tmp, 'a'), kept)
        assert first['export'] == {'exit': 0} and set(first['measured']) == {'export', 'prune'}, first
        write_run(os.path.join(tmp, 'b'), 'resnet18', dict(row, prune={'exit': 0}))
        merged = keep(os.path.join(tmp, 'b'), kept)
        assert merged['export'] == {'exit': 0}, merged        # a step the run skipped keeps its figure
        assert merged['prune'] == {'exit': 0}, merged         # a step it ran replaces the kept one
        assert set(merged['measured']) == {'export', 'prune'}, merged
        write_run(os.path.join(tmp, 'v'), 'resnet18', dict(row, prune={'skipped': 'no ONNX file (export failed)'}))
        kept_figure = keep(os.path.join(tmp, 'v'), kept)
        assert kept_figure['prune'] == {'exit': 0}, kept_figure  # a skip measured nothing: the figure stays
        write_run(os.path.join(tmp, 'c'), 'resnet18', dict(row, spec='x:batch=1x3x64x64', prune={'exit': 3}))
        resized = keep(os.path.join(tmp, 'c'), kept)
        assert 'export' not in resized and resized['spec'] == 'x:batch=1x3x64x64', resized
        # A result older than the run's start (an earlier run's file left in RUN_DIR) is not merged again.
        stamp = os.path.join(tmp, 'stamp')
        open(stamp, 'w').close()
        old = os.path.getmtime(stamp) - 3600
        os.utime(os.path.join(tmp, 'a', 'results', 'resnet18.json'), (old, old))
        unchanged = keep(os.path.join(tmp, 'a'), kept, '--newer-than', stamp)
        assert unchanged == resized, unchanged
    print('keep_results: ok')


if __name__ == '__main__':
    main()
