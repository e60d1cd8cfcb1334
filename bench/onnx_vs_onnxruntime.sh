#!/usr/bin/env bash
# facetrail's ONNX loader beside onnxruntime on the same model, machine and session
# (docs/PERFORMANCE.md, "ONNX networks"): build/facetrail-bench-onnx (fp32 and bf16) and
# bench/onnxruntime_bench.mjs (onnxruntime-node, CPU), same thread count, one after the other.
#   bench/onnx_vs_onnxruntime.sh [MODEL (default models/fr_feature.onnx)] [THREADS (default 1)]
# Needs: a build (scripts/build or cmake --build build --target facetrail-bench-onnx) and
# onnxruntime-node in tools/golden/onnx/node_modules (cd tools/golden/onnx && npm install
# --ignore-scripts).
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-models/fr_feature.onnx}
threads=${2:-1}
bench=${BUILD_DIR:-build}/facetrail-bench-onnx
[ -x "$bench" ] || { echo "onnx_vs_onnxruntime: $bench missing (cmake --build build --target facetrail-bench-onnx)" >&2; exit 1; }
[ -d tools/golden/onnx/node_modules/onnxruntime-node ] ||
  { echo "onnx_vs_onnxruntime: run 'npm install --ignore-scripts' in tools/golden/onnx first" >&2; exit 1; }
echo "== facetrail (oneDNN $(dpkg-query -W -f='${Version}' libdnnl-dev 2>/dev/null || echo '?'))"
"$bench" --model "$model" --threads "$threads" --precision f32,bf16
echo "== onnxruntime"
OMP_NUM_THREADS=$threads node bench/onnxruntime_bench.mjs --model "$model" --threads "$threads"
