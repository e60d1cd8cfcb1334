#!/usr/bin/env bash
# Regenerates the face-api.js golden reference files in tests/golden/faceapi/ (see the README there).
#
#   tools/golden/make_golden.sh [LIST]      (run from anywhere; LIST default tools/golden/images.txt)
#
# LIST: lines "SHORT_NAME SOURCE" ('#' comments allowed). SOURCE is either a path relative to the
# shared data folder ($FACETRAIL_DATA, default /work/shared/data), e.g.
# lfw-deepfunneled-dev/images/X/X_0001.jpg, or models/demo/sampleN.jpg relative to the repo
# (copied there by scripts/fetch-models; when absent, the identical file shipped in the npm package
# $FACEAPI_DIR/node_modules/@vladmandic/face-api/demo/ is used).
#
# Per image: `djpeg -pnm` (libjpeg-turbo) decodes the JPEG to a temporary binary PPM; the real
# face-api.js (@vladmandic/face-api 1.7.15, wasm backend, modules from $FACEAPI_DIR/node_modules,
# default /work/shared/peers/faceapi) runs on exactly those pixels (tools/golden/dump_faceapi.mjs);
# the result goes to tests/golden/faceapi/SHORT_NAME.json. Only JPEG sources are supported.
# Needs: djpeg (Debian libjpeg-turbo-progs, in scripts/deps), node >= 18, the peer's node_modules.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
data=${FACETRAIL_DATA:-/work/shared/data}
faceapi_dir=${FACEAPI_DIR:-/work/shared/peers/faceapi}
list=${1:-$repo/tools/golden/images.txt}
out_dir=$repo/tests/golden/faceapi

command -v djpeg >/dev/null || { echo "make_golden: djpeg missing (apt-get install libjpeg-turbo-progs)" >&2; exit 1; }
[ -d "$faceapi_dir/node_modules/@vladmandic/face-api" ] || { echo "make_golden: face-api not installed in $faceapi_dir" >&2; exit 1; }

# "libjpeg-turbo version 2.1.5 (build 20230203)" -> 2.1.5
jt_version=$(djpeg -version 2>&1 | sed -n 's/^libjpeg-turbo version \([^ ]*\).*/\1/p' | head -1)
[ -n "$jt_version" ] || { echo "make_golden: cannot read the libjpeg-turbo version from djpeg -version" >&2; exit 1; }
decoder="djpeg -pnm (libjpeg-turbo $jt_version)"

# the command line recorded in every file: repo-relative, so it reads the same on every checkout
list_rel=$(realpath --relative-to="$repo" "$list")
generator="tools/golden/make_golden.sh $list_rel"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/facetrail-golden.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out_dir"
manifest=$tmp/manifest.tsv
: > "$manifest"

n=0
while read -r name source rest; do
  [ -z "${name:-}" ] && continue
  case $name in \#*) continue ;; esac
  [ -n "${source:-}" ] && [ -z "${rest:-}" ] || { echo "make_golden: bad line: $name $source $rest" >&2; exit 1; }
  case $source in
    models/demo/*)
      file=$repo/$source
      [ -f "$file" ] || file=$faceapi_dir/node_modules/@vladmandic/face-api/demo/${source#models/demo/} ;;
    *) file=$data/$source ;;
  esac
  [ -f "$file" ] || { echo "make_golden: missing $file" >&2; exit 1; }
  case $file in
    *.jpg|*.jpeg|*.JPG|*.JPEG) ;;
    *) echo "make_golden: only JPEG sources are supported: $source" >&2; exit 1 ;;
  esac
  ppm=$tmp/$name.ppm
  djpeg -pnm "$file" > "$ppm"
  # a greyscale JPEG would come out as P5 (PGM); face-api needs RGB
  [ "$(head -c 2 "$ppm")" = P6 ] || { echo "make_golden: $source did not decode to an RGB PPM (P6)" >&2; exit 1; }
  printf '%s\t%s\t%s\n' "$ppm" "$source" "$out_dir/$name.json" >> "$manifest"
  n=$((n + 1))
done < "$list"

echo "make_golden: $n images, decoder: $decoder" >&2
FACEAPI_DIR=$faceapi_dir node "$here/dump_faceapi.mjs" --manifest "$manifest" --decoder "$decoder" --generator "$generator"
