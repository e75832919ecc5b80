#!/usr/bin/env bash
# Installs the client library from a build tree into a temporary prefix, then
# builds and runs two tiny consumers against the installed tree only: one with
# find_package(PalmClient) → Palm::client, one with pkg-config palm-client.
# Both run with no LD_LIBRARY_PATH: installed means runnable (the RUNPATH the
# CMake package and palm-client.pc give is the one way they find the library).
#   consumer_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
source=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build/client-lib" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/include/palm/client.h"
test -f "$work/prefix/include/palm/palm.h"
# Public headers must not leak our private dependencies.
if grep -lE '#include [<"](google/|grpc|absl/|sqlite3|openssl/|nlohmann/)' "$work/prefix/include/palm/"*.h; then
  echo "public headers include private dependencies" >&2
  exit 1
fi
libdir=$(dirname "$(find "$work/prefix" -name 'libpalm_client.so' | head -n 1)")

# 1. CMake package.
cmake -S "$source/tests/install/consumer" -B "$work/cmake-build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/cmake-build" >/dev/null
mkdir -p "$work/run1" "$work/keys1"
env -u LD_LIBRARY_PATH "$work/cmake-build/consumer" "$work/run1/device.db" "$work/keys1"

# 2. pkg-config, from C.
export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror -o "$work/c-consumer" "$source/tests/install/consumer/main.c" \
  $(pkg-config --cflags --libs palm-client)
mkdir -p "$work/run2" "$work/keys2"
if ! readelf -d "$work/c-consumer" | grep -q "RUNPATH"; then
  echo "the pkg-config consumer has no RUNPATH to $libdir" >&2
  exit 1
fi
env -u LD_LIBRARY_PATH "$work/c-consumer" "$work/run2/device.db" "$work/keys2"
echo "install consumer test passed"
