#!/usr/bin/python3
"""Turns a zoo run (ZOO_DIR/results/NAME.json from tests/zoo/zoo_test.cpp, and
ZOO_DIR/NAME.json from tests/zoo/make_zoo.py for models the run did not reach)
into the Markdown tables of docs/model-coverage.md, on stdout. Several folders
(e.g. the fast and the full run) are merged, a later one's model replacing an
earlier one's of the same name and input spec (other specs get their own row).

  /usr/bin/python3 tests/zoo/coverage_table.py ZOO_DIR [ZOO_DIR...]"""
import glob
import json
import os
import platform
import sys
import time

FAMILIES = ['classification', 'segmentation', 'video', 'detection', 'optical flow']
QUANTIZE = [('quantize_static.pt', 'static .pt'), ('quantize_dynamic.pt', 'dynamic .pt'),
            ('quantize_static.onnx', 'static .onnx'), ('quantize_dynamic.onnx', 'dynamic .onnx'),
            ('quantize_static.ptl', 'static .ptl')]


def load(zoo_dir):
    models = {}
    for path in glob.glob(os.path.join(zoo_dir, '*.json')):
        if os.path.basename(path) == 'zoo.json':
            continue
        with open(path) as f:
            meta = json.load(f)
        models[meta['name'] + ' ' + meta['spec']] = {'name': meta['name'], 'family': meta['family'], 'spec': meta['spec'],
                                'params': meta.get('params', 0), 'how': meta.get('how'),
                                'torch_onnx': {'status': meta.get('torch_onnx', 'not run')}}
    for path in glob.glob(os.path.join(zoo_dir, 'results', '*.json')):
        with open(path) as f:
            r = json.load(f)
        models.setdefault(r['name'] + ' ' + r['spec'], {}).update(r)
    return models


def short(text, n=90):
    text = text.replace('|', '/').replace('\n', ' ')
    return text if len(text) <= n else text[:n - 3] + '...'


def ort_cell(ort):
    if ort is None:
        return 'not run'
    if 'error' in ort:
        return 'no: ' + short(ort['error'], 50)
    worst = max(ort['max_rel_error'])
    return f"{'yes' if ort['ok'] else '**NO**'} ({worst:.0e})"


def export_cells(r):
    e = r.get('export')
    if e is None:
        return ['not run', '']
    if e['exit'] != 0:
        return ['no (1)', '']
    return ['yes', ort_cell(e.get('ort'))]


def torch_cells(r):
    t = r.get('torch_onnx', {})
    status = t.get('status', 'not run')
    if status == 'ok':
        return ['yes', ort_cell(t.get('ort')) if 'ort' in t else 'not run']
    if status == 'not run':
        return ['not run', '']
    return ['no (2)', '']


def quantize_cell(q, speedup=True):
    if q is None:
        return 'not run'
    if q['exit'] == 1:
        return 'refused (3)' if 'timed out' not in q.get('error', '') and 'timeout' not in q.get('error', '') \
            else 'time limit'
    sqnr = q.get('sqnr_db')
    text = f'{sqnr:.1f} dB' if isinstance(sqnr, (int, float)) else '?'
    if q['exit'] == 3:
        return f'exit 3: {text}'
    if speedup and isinstance(q.get('speedup'), (int, float)):
        text += f", {q['speedup']:.1f}x" + (' (noisy)' if q.get('latency_verdict') == 'inconclusive' else '')
    return text


def top1_cell(r):
    cells = []
    for key, _ in QUANTIZE[:1] + QUANTIZE[2:3]:
        q = r.get(key) or {}
        if isinstance(q.get('top1_agreement'), (int, float)):
            clear = q.get('top1_clear_samples')
            cells.append(f"{100 * q['top1_agreement']:.0f}%" + (f" ({clear} clear)" if isinstance(clear, int) else ''))
        elif isinstance(q.get('detection_agreement'), (int, float)):
            cells.append(f"det {100 * q['detection_agreement']:.0f}%")
    return ' / '.join(cells) if cells else '-'


def step_cell(s, ok_text):
    if s is None:
        return 'not run'
    if 'skipped' in s:
        return 'skipped'
    if s['exit'] == 0:
        return ok_text(s)
    return f"exit {s['exit']} (3)"


def prune_cell(p):
    return step_cell(p, lambda s: f"{s['param_ratio']:.2f}x" if isinstance(s.get('param_ratio'), (int, float)) else 'ok')


def profile_cell(p):
    return step_cell(p, lambda s: f"{s['latency_ms']:.0f} ms" if isinstance(s.get('latency_ms'), (int, float)) else 'ok')


def verify_cell(v):
    if v is None or 'skipped' in v:
        return 'not run' if v is None else '-'
    return 'pass' if v.get('passed') else f"**fail** (3)" if v['exit'] == 3 else f"exit {v['exit']} (3)"


def failures(r):
    """(step, one-line reason) for every step that did not work."""
    out = []
    e = r.get('export')
    if e and e['exit'] != 0:
        out.append(('mlopt export-onnx', e.get('error', '')))
    elif e and e.get('ort') and 'error' in e['ort']:
        out.append(('mlopt export-onnx in ONNX Runtime', e['ort']['error']))
    t = r.get('torch_onnx', {})
    if t.get('status') not in (None, 'ok', 'not run'):
        out.append(('torch.onnx.export', t['status']))
    elif t.get('ort') and 'error' in t['ort']:
        out.append(('torch.onnx.export in ONNX Runtime', t['ort']['error']))
    for key, label in QUANTIZE:
        q = r.get(key)
        if q and q['exit'] != 0:
            why = q.get('error', '')
            if not why and q['exit'] == 3:
                why = 'under the quality floor: output SQNR ' + (f"{q['sqnr_db']:.1f} dB" if isinstance(
                    q.get('sqnr_db'), (int, float)) else '?')
                if isinstance(q.get('top1_agreement'), (int, float)):
                    why += f", top-1 agreement {100 * q['top1_agreement']:.1f}%"
                if isinstance(q.get('detection_agreement'), (int, float)):
                    why += f", detection agreement {100 * q['detection_agreement']:.1f}%"
                why += ' (exit 3, nothing written)'
            out.append((f'quantize {label}', why))
    for key in ('prune', 'profile', 'ptl'):
        s = r.get(key)
        if s and s.get('exit', 0) != 0:
            out.append(({'ptl': 'trace to .ptl'}.get(key, key), s.get('error', '')))
    v = r.get('verify')
    if v and v.get('exit', 0) != 0:
        out.append(('verify .pt vs .onnx', v.get('failure') or v.get('error', '')))
    return out


def zoo_names():
    """Every model make_zoo.py knows, in its order (empty without torchvision)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    try:
        import make_zoo
        return list(make_zoo.full_zoo())
    except ImportError:
        return []


def header(models, zoo_dirs):
    # Kept results (tests/zoo/keep_results.py) carry each step's date; a run folder only its files' times.
    dates = {day for r in models.values() for day in r.get('measured', {}).values()}
    if not dates:
        dates = {time.strftime('%Y-%m-%d', time.gmtime(os.path.getmtime(p)))
                 for d in zoo_dirs for p in glob.glob(os.path.join(d, 'results', '*.json'))}
    when = ('the run of ' + min(dates) if len(dates) == 1 else f'runs from {min(dates)} to {max(dates)}') if dates \
        else 'no run'
    print('# Model coverage: the torchvision zoo\n')
    print('What mlopt does with the models of Debian\'s torchvision 0.14 (trained-like weights, see '
          '`tests/zoo/make_zoo.py`), next to PyTorch\'s own exporter (`torch.onnx.export`, opset 17, on the eager '
          'model). Produced by `scripts/zoo.sh --table docs/model-coverage.md` '
          f'(tests/zoo/coverage_table.py) from {when} on a {os.cpu_count()}-core '
          f'{platform.machine()} machine; a cell "not run" is a step that run did not reach (time limit or '
          '`--steps`). Latency and speedup depend on the machine and on its load during the run; "(noisy)" marks a speedup quantize itself called inconclusive (its interleaved rounds disagreed). '
          'Rerun it to refresh this page.\n')


def median(values):
    values = sorted(values)
    return values[len(values) // 2] if values else None


def step_summary(models):
    """Per family, over the rows the step run reached: how each step ended, with median figures."""
    print('| family | rows with steps | static int8 written (.pt / .onnx / .ptl) | median SQNR static .onnx | '
          'exit 3 (floor) / one-line refusals | prune ok, median params / FLOPs ratio | verify pass | '
          'trace .ptl ok |')
    print('|---|---|---|---|---|---|---|---|')
    for family in FAMILIES:
        rows = [r for r in models.values() if r.get('family') == family and 'prune' in r]
        if not rows:
            continue
        written = [sum(1 for r in rows if (r.get(k) or {}).get('exit') == 0)
                   for k in ('quantize_static.pt', 'quantize_static.onnx', 'quantize_static.ptl')]
        sqnr = median([r['quantize_static.onnx']['sqnr_db'] for r in rows
                       if (r.get('quantize_static.onnx') or {}).get('exit') == 0
                       and isinstance(r['quantize_static.onnx'].get('sqnr_db'), (int, float))])
        floors = sum(1 for r in rows for k, _ in QUANTIZE if (r.get(k) or {}).get('exit') == 3)
        refusals = sum(1 for r in rows for k, _ in QUANTIZE if (r.get(k) or {}).get('exit') == 1)
        pruned = [r['prune'] for r in rows if r['prune'].get('exit') == 0]
        params = median([p['param_ratio'] for p in pruned if isinstance(p.get('param_ratio'), (int, float))])
        flops = median([p['flops_ratio'] for p in pruned if isinstance(p.get('flops_ratio'), (int, float))])
        verified = [r['verify'] for r in rows if 'verify' in r]
        ptl = [r['ptl'] for r in rows if 'ptl' in r]
        print(f"| {family} | {len(rows)} | {' / '.join(map(str, written))} | "
              f"{'-' if sqnr is None else f'{sqnr:.1f} dB'} | {floors} / {refusals} | "
              f"{len(pruned)} of {len(rows)}, {'-' if params is None else f'{params:.2f}x'} / "
              f"{'-' if flops is None else f'{flops:.2f}x'} | "
              f"{sum(1 for v in verified if v.get('passed'))} of {len(verified)} | "
              f"{sum(1 for t in ptl if t.get('exit') == 0)} of {len(ptl)} |")
    print()


def main():
    models = {}
    for zoo_dir in sys.argv[1:]:
        models.update(load(zoo_dir))
    header(models, sys.argv[1:])
    missing = [name for name in zoo_names() if name not in {r['name'] for r in models.values()}]
    if missing:
        print('Models of the zoo (`make_zoo.py`) not in this run: ' + ', '.join(missing) + '.\n')
    print('| family | rows (model, input) | mlopt exports + matches ORT | torch.onnx exports + matches ORT |')
    print('|---|---|---|---|')
    for family in FAMILIES:
        rows = [r for r in models.values() if r.get('family') == family]
        if not rows:
            continue
        ours = sum(1 for r in rows if (r.get('export') or {}).get('ort', {}).get('ok'))
        theirs = sum(1 for r in rows if (r.get('torch_onnx') or {}).get('ort', {}).get('ok'))
        print(f'| {family} | {len(rows)} | {ours} | {theirs} |')
    print()
    step_summary(models)
    print('Notes: (1) mlopt export-onnx refused with one error line, (2) PyTorch\'s exporter raised, '
          '(3) the one-line reasons are listed under the family\'s table. ORT match: worst relative error '
          '(max |ort - torch| / max |torch|) over the outputs at the example size and the second size; '
          '"yes" under 1e-3. Detection models run on two images at their one size and their detections are '
          'matched as sets (same label, nearest box and score, within 1e-2 of the largest value; a detection '
          'without a match only at the score cut; masks and keypoints per detection, 90% within 1e-2: see '
          'docs/export-onnx.md, Detection models). Quantize: output SQNR against float, then the int8 speedup at batch 1 (none for the '
          '.ptl: its timing on x86 is QNNPACK\'s x86 kernels, which says nothing of a phone\'s); '
          '"exit 3" is a refusal by the quality floor (15 dB, top-1 agreement 90%), nothing written. '
          'Top-1: agreement of the static int8 .pt / .onnx with float on 16 random samples, and how many of them '
          'have a clear float top-1, the ones the top-1 floor reads (docs/quantize.md, quality floors; "det": '
          'a detector\'s detection agreement, matched detections as a score-weighted F1, docs/quantize.md). Prune: channel '
          'pruning 30%, parameters before / after. Profile: p50 latency of the float model at batch 1.')
    for family in FAMILIES:
        rows = sorted((r for r in models.values() if r.get('family') == family), key=lambda r: r['name'])
        if not rows:
            continue
        print(f'\n## {family.capitalize()}\n')
        print('| model | params | input | mlopt export | ORT match | torch.onnx | ORT match | '
              + ' | '.join(f'quantize {label}' for _, label in QUANTIZE)
              + ' | top-1 | prune | profile | verify | .ptl |')
        print('|' + '---|' * (12 + len(QUANTIZE)))
        for r in rows:
            cells = [r['name'], f"{r.get('params', 0) / 1e6:.1f}M", '`' + r['spec'] + '`']
            cells += export_cells(r) + torch_cells(r)
            # A .ptl's latency on x86 is QNNPACK's x86 kernels, which says nothing of a phone's (docs/quantize.md).
            cells += [quantize_cell(r.get(key), speedup=not key.endswith('.ptl')) for key, _ in QUANTIZE]
            cells += [top1_cell(r), prune_cell(r.get('prune')), profile_cell(r.get('profile')),
                      verify_cell(r.get('verify')),
                      step_cell(r.get('ptl'), lambda s: 'ok')]
            print('| ' + ' | '.join(cells) + ' |')
        reasons = [(r['name'], step, why) for r in rows for step, why in failures(r)]
        if reasons:
            print('\nWhat did not work, in the tools\' own words:\n')
            for name, step, why in reasons:
                print(f'- {name}, {step}: {short(why, 300)}')


if __name__ == '__main__':
    main()
