#!/usr/bin/env bash
# Rebuilds lib/backend/wasm_kernels_binary.ts from lib/backend/kernels/kernels.c.
# Needs clang >= 16 and wasm-ld (Debian: apt-get install clang-16 lld-16). Users never need this: the
# generated file is committed, and test/backend/wasm_kernels.test.ts checks it matches the C source.
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG=${CLANG:-$(command -v clang-16 || command -v clang)}
src=lib/backend/kernels/kernels.c
out=$(mktemp -d)/kernels.wasm
"$CLANG" --target=wasm32 -O3 -msimd128 -mbulk-memory -ffreestanding -nostdlib \
  -Wall -Wextra -Werror -Wno-unused-parameter \
  -Wl,--no-entry -Wl,--import-memory -Wl,--export=__stack_pointer -Wl,--strip-all \
  -o "$out" "$src"
node scripts/embed-wasm.js "$src" "$out" lib/backend/wasm_kernels_binary.ts
