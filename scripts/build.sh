#!/usr/bin/env bash
# Configures and builds mlopt (Ninja, ccache, precompiled LibTorch headers).
# BUILD_DIR (default build/) and extra CMake args may be given (they reconfigure
# an existing build folder).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
export CCACHE_BASEDIR="$PWD" CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-10G}
if [ ! -f "$BUILD_DIR/build.ninja" ] || [ $# -gt 0 ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >&2
fi
# LibTorch translation units take ~1.5 GB each; two jobs fit the 2-core machines.
cmake --build "$BUILD_DIR" -j "${JOBS:-$(nproc)}" >&2
