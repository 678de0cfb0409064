#!/usr/bin/env bash
# Installs everything mlopt needs to build and test, from Debian packages and
# npm (ONNX Runtime, the test oracle). Idempotent: re-running is cheap.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  libtorch-dev libopenblas0-openmp libgloo-dev
  libonnx-dev libonnx-testdata libprotobuf-dev protobuf-compiler
  libcli11-dev libfmt-dev libyaml-cpp-dev catch2 nlohmann-json3-dev libspdlog-dev libbenchmark-dev zlib1g-dev
  python3-torch python3-torchvision python3-numpy
  libcpp-httplib-dev prometheus-cpp-dev nginx wrk
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from Debian or elsewhere (nodesource): only install it when absent.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# ONNX Runtime for the tests: its install script downloads GPU parts and
# fails; the CPU library is inside the package.
if [ ! -d tests/oracle/node_modules/onnxruntime-node ]; then
  echo "setup: installing onnxruntime-node (test oracle)" >&2
  (cd tests/oracle && npm install --ignore-scripts --no-audit --no-fund >&2)
fi
# The oracle is required by the test suite: fail here, not in the middle of it.
(cd tests/oracle && node -e "require('onnxruntime-node')") || {
  echo "setup: onnxruntime-node is not usable (tests/oracle/node_modules): the ONNX Runtime tests need it" >&2
  exit 1
}
