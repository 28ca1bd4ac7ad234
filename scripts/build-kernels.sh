#!/usr/bin/env bash
# Rebuilds lib/backend/wasm_kernels_binary.ts from lib/backend/kernels/kernels.c: a baseline SIMD128 binary
# and a relaxed-SIMD one (fused multiply-add in the GEMM), which slimspeech uses where the runtime accepts it.
# Needs clang >= 16 and wasm-ld (Debian: apt-get install clang-16 lld-16). Users never need this: the
# generated file is committed, and test/backend/wasm_kernels.test.ts checks it matches the C source.
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG=${CLANG:-$(command -v clang-16 || command -v clang)}
src=lib/backend/kernels/kernels.c
tmp=$(mktemp -d)
build_one() { local name=$1; shift; "$CLANG" --target=wasm32 -O3 -msimd128 -mbulk-memory "$@" -ffreestanding -nostdlib \
    -Wall -Wextra -Werror -Wno-unused-parameter \
    -Wl,--no-entry -Wl,--import-memory -Wl,--export=__stack_pointer -Wl,--strip-all \
    -o "$tmp/$name.wasm" "$src"; }
build_one base
build_one relaxed -mrelaxed-simd
node scripts/embed-wasm.js "$src" lib/backend/wasm_kernels_binary.ts "$tmp/base.wasm" "$tmp/relaxed.wasm"
