#!/usr/bin/env bash
# Regenerates the onnxruntime reference files in tests/golden/onnx/ (see the README there): the
# inputs as 112×112 PNG images and fr_feature.json with onnxruntime's output for each.
#
#   tools/golden/onnx/make_golden.sh [LIST]   (run from anywhere; LIST default
#                                              tools/golden/onnx/inputs.txt)
#
# LIST: lines "NAME SOURCE" ('#' comments allowed). SOURCE is a JPEG relative to the shared data
# folder ($FACETRAIL_DATA, default /work/shared/data), decoded by `djpeg -pnm` (libjpeg-turbo),
# centre 128×128 crop resized to 112×112 (bilinear); or synthetic:SEED, a seeded pattern.
# The image (RGB, 8 bit) is written as tests/golden/onnx/NAME.png; the network input is exactly
# BGR planar (v − 127) / 128 of those pixels, as the C++ test recreates it
# (tests/nn/onnx_test.cpp). onnxruntime-node (CPU, 1 thread) runs models/fr_feature.onnx
# on it (tools/golden/onnx/dump_onnxruntime.mjs).
#
# Needs: djpeg (Debian libjpeg-turbo-progs, in scripts/deps), node >= 18, onnxruntime-node in
# tools/golden/onnx/node_modules (git-ignored):
#   cd tools/golden/onnx && npm install --ignore-scripts
# (--ignore-scripts: its install script fetches GPU libraries; the CPU build ships in the
# package), and models/fr_feature.onnx (scripts/fetch-models).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
data=${FACETRAIL_DATA:-/work/shared/data}
list=${1:-$here/inputs.txt}
out_dir=$repo/tests/golden/onnx
model=$repo/models/fr_feature.onnx

command -v djpeg >/dev/null || { echo "make_golden: djpeg missing (apt-get install libjpeg-turbo-progs)" >&2; exit 1; }
[ -d "$here/node_modules/onnxruntime-node" ] ||
  { echo "make_golden: run 'npm install --ignore-scripts' in $here first" >&2; exit 1; }
[ -f "$model" ] || { echo "make_golden: $model missing (scripts/fetch-models)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/facetrail-golden-onnx.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out_dir"
manifest=$tmp/manifest.tsv
: > "$manifest"
while read -r name source rest; do
  [ -z "${name:-}" ] && continue
  case $name in \#*) continue ;; esac
  [ -n "${source:-}" ] && [ -z "${rest:-}" ] || { echo "make_golden: bad line: $name $source $rest" >&2; exit 1; }
  case $source in
    synthetic:*) pixels=$source ;;
    *.jpg|*.jpeg)
      [ -f "$data/$source" ] || { echo "make_golden: missing $data/$source" >&2; exit 1; }
      pixels=$tmp/$name.ppm
      djpeg -pnm "$data/$source" > "$pixels"
      [ "$(head -c 2 "$pixels")" = P6 ] || { echo "make_golden: $source is not an RGB JPEG" >&2; exit 1; } ;;
    *) echo "make_golden: unsupported source $source" >&2; exit 1 ;;
  esac
  printf '%s\t%s\t%s\n' "$name" "$source" "$pixels" >> "$manifest"
done < "$list"

list_rel=$(realpath --relative-to="$repo" "$list")
jt_version=$(djpeg -version 2>&1 | sed -n 's/^libjpeg-turbo version \([^ ]*\).*/\1/p' | head -1)
node "$here/dump_onnxruntime.mjs" --manifest "$manifest" --model "$model" --out-dir "$out_dir" \
  --generator "tools/golden/onnx/make_golden.sh $list_rel" \
  --decoder "djpeg -pnm (libjpeg-turbo $jt_version)"
