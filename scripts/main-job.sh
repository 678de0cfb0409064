#!/usr/bin/env bash
# The main job: set up, build, and run the bundled digits release pipeline.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
build/apps/mlopt run configs/digits-release.yaml --out mlopt-out/digits-release
