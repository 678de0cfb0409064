#!/usr/bin/env bash
# The test command: set up, build, and run the whole test suite, the fast
# torchvision zoo subset (ctest -L zoo_fast, a few minutes) included. The whole
# zoo is scripts/zoo.sh (README: "Model zoo tests").
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh -DMLOPT_ZOO_TESTS=ON
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)" "$@"
