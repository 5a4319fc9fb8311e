#!/usr/bin/env bash
# kernel_trace.sh: runs a command with tools/gpu/kernel_trace.c injected (every kernel's GPU time,
# per CUDA graph and by name) and writes the readable trace to $OF3_KERNEL_TRACE (default
# kernel_trace.txt). Usage: tools/gpu/kernel_trace.sh bin/of3-diffuse -w W -o OUT IN
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cuda=${CUDA_HOME:-/usr/local/cuda}
lib=
for d in "$cuda/lib64" "$cuda/lib" "$cuda/extras/CUPTI/lib64" "$cuda"/targets/*/lib; do
	[ -e "$d/libcupti.so" ] && lib=$d && break
done
[ -n "$lib" ] || { echo "kernel_trace.sh: no libcupti.so under $cuda" >&2; exit 2; }
inc=$cuda/include
[ -e "$inc/cupti.h" ] || inc=$cuda/extras/CUPTI/include
so=$root/build/kernel_trace.so
mkdir -p "$root/build"
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -shared -fPIC -I"$inc" \
	"$root/tools/gpu/kernel_trace.c" -L"$lib" -Wl,-rpath,"$lib" -lcupti -o "$so"
out=${OF3_KERNEL_TRACE:-kernel_trace.txt}
raw=$(mktemp)
CUDA_INJECTION64_PATH=$so OF3_KERNEL_TRACE=$raw "$@"
if command -v c++filt >/dev/null; then c++filt <"$raw" >"$out"; else cp "$raw" "$out"; fi
rm -f "$raw"
echo "kernel_trace.sh: $out" >&2
