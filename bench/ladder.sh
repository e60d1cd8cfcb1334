#!/usr/bin/env bash
# The degradation ladder on LFW dev folds 1-5 (docs/EVAL.md): every probe downscaled, blurred and
# JPEG-compressed rung by rung, searched against the clean gallery. Prints the CPU, the time of
# each pass and the per-rung figures; the report lands in OUT (default out/ladder).
#
#   bash bench/ladder.sh [LADDER=standard] [extra eval arguments…]     (after scripts/build and
#   scripts/fetch-models). BUILD_DIR selects the build folder (default build); OUT the report
#   folder. A second run reuses OUT/templates.cache: delete it to time the passes again.
set -euo pipefail
cd "$(dirname "$0")/.."
ladder=${1:-standard}
shift || true
out=${OUT:-out/ladder}
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
start=$(date +%s)
"${BUILD_DIR:-build}/facetrail" eval report --data ../shared/data/lfw-deepfunneled-dev \
  --out "$out" --no-all-pairs --degrade-probes "$ladder" "$@"
echo "wall: $(( $(date +%s) - start )) s; per-rung figures: $out/ladder.csv"
