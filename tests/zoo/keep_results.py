#!/usr/bin/python3
"""Keeps a zoo run's results in the repository, so that runs of parts of the zoo
(--only, --family, --steps) add up to one coverage page instead of replacing it.

  /usr/bin/python3 tests/zoo/keep_results.py RUN_DIR KEPT_DIR [--newer-than STAMP]

Each RUN_DIR/results/NAME.json (tests/zoo/zoo_test.cpp) is merged step by step
into KEPT_DIR/results/NAME.json: a step the run measured replaces the kept one,
a step it did not run or skipped keeps its earlier figure. Each step records the date it
was measured (UTC), which the page shows for rows measured on different days.
--newer-than: only the results written after STAMP (a file scripts/zoo.sh
touches as its run starts) are merged. RUN_DIR keeps the results of earlier runs
too (an --only run rewrites its models' files alone), and merging those again
would put back figures that later runs had replaced."""
import glob
import json
import os
import sys
import time

IDENTITY = ('name', 'family', 'spec', 'how', 'params')


def skipped(result):
    return isinstance(result, dict) and set(result) <= {'skipped', 'seconds'} and 'skipped' in result


def merge(kept, run, measured):
    """A step the run skipped (a --steps run without the export a step needs)
    keeps the kept figure: a skip measured nothing."""
    merged = dict(kept)
    merged['measured'] = dict(kept.get('measured', {}))
    for step, result in run.items():
        if step in IDENTITY:
            merged[step] = result
        elif not (skipped(result) and step in kept and not skipped(kept[step])):
            merged[step] = result
            merged['measured'][step] = measured
    return merged


def main():
    args = sys.argv[1:]
    since = 0.0
    if len(args) == 4 and args[2] == '--newer-than':
        since = os.path.getmtime(args[3])
        args = args[:2]
    if len(args) != 2:
        sys.exit(__doc__)
    run_dir, kept_dir = args
    os.makedirs(os.path.join(kept_dir, 'results'), exist_ok=True)
    kept_count = 0
    for path in sorted(glob.glob(os.path.join(run_dir, 'results', '*.json'))):
        if os.path.getmtime(path) < since:
            continue
        with open(path) as f:
            run = json.load(f)
        measured = time.strftime('%Y-%m-%d', time.gmtime(os.path.getmtime(path)))
        target = os.path.join(kept_dir, 'results', os.path.basename(path))
        kept = {}
        if os.path.exists(target):
            with open(target) as f:
                kept = json.load(f)
            if kept.get('spec') != run.get('spec'):
                kept = {}  # another input size: the new run's row replaces it
        merged = merge(kept, run, measured)
        with open(target + '.tmp', 'w') as f:
            json.dump(merged, f, indent=1, sort_keys=True)
            f.write('\n')
        os.replace(target + '.tmp', target)
        kept_count += 1
    print(f'keep_results: {kept_count} model(s) merged into {kept_dir}/results', file=sys.stderr)


if __name__ == '__main__':
    main()
