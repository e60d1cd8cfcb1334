#!/usr/bin/env bash
# face-api.js on the LFW deep-funneled dev pairs with libjpeg-turbo (djpeg) pixels:
# writes tests/golden/faceapi/lfw-dev-pairs-djpeg.csv (path_a,path_b,same,fold,distance) and
# prints run.mjs's pairs_summary. About 16 minutes on 2 cores.
#
#   tools/golden/lfw_pairs_djpeg.sh [WORK_DIR]     (default /work/golden-work; outside the repo)
#   REUSE=1 tools/golden/lfw_pairs_djpeg.sh ...    keep finished detect output in WORK_DIR
#
# 1. every image named in $FACETRAIL_DATA/lfw-deepfunneled-dev/pairs.csv -> `djpeg -pnm` ->
#    WORK_DIR/lfw-ppm/images/<person>/<name>.ppm (same tree, .jpg -> .ppm), plus
#    WORK_DIR/lfw-ppm/pairs.csv = pairs.csv with .jpg -> .ppm;
# 2. the reference peer's `run.mjs detect` (wasm, minConfidence 0.5, maxResults 100) on the two
#    halves of the image list in parallel -> WORK_DIR/lfw-detect-00.jsonl, lfw-detect-01.jsonl;
# 3. `run.mjs score` (default --pick score = face-api's first face, threshold 0.6) ->
#    WORK_DIR/lfw-score.jsonl;
# 4. the pair lines mapped back to the original relative .jpg paths of pairs.csv -> the CSV
#    (distance as run.mjs rounds it, 6 decimals; empty when either image has no face).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
data=${FACETRAIL_DATA:-/work/shared/data}/lfw-deepfunneled-dev
faceapi_dir=${FACEAPI_DIR:-/work/shared/peers/faceapi}
work=$(realpath -m "${1:-/work/golden-work}")
out_csv=$repo/tests/golden/faceapi/lfw-dev-pairs-djpeg.csv
case $work/ in "$repo"/*) echo "lfw_pairs_djpeg: WORK_DIR must be outside the repo" >&2; exit 1 ;; esac
mkdir -p "$work/lfw-ppm"

# 1. decode
tail -n +2 "$data/pairs.csv" | awk -F, '{print $1; print $2}' | sort -u > "$work/lfw-images.txt"
while read -r p; do
  o=$work/lfw-ppm/${p%.jpg}.ppm
  mkdir -p "$(dirname "$o")"
  djpeg -pnm "$data/$p" > "$o"
  [ "$(head -c 2 "$o")" = P6 ] || { echo "lfw_pairs_djpeg: $p is not RGB" >&2; exit 1; }
done < "$work/lfw-images.txt"
sed 's/\.jpg\b/.ppm/g' "$data/pairs.csv" > "$work/lfw-ppm/pairs.csv"
sed "s#^#$work/lfw-ppm/#; s/\.jpg\$/.ppm/" "$work/lfw-images.txt" > "$work/lfw-ppm-list.txt"
echo "lfw_pairs_djpeg: $(wc -l < "$work/lfw-images.txt") images decoded with $(djpeg -version 2>&1 | head -1)" >&2

# 2. detect, two processes
(cd "$work" && rm -f lfw-half-0? && split -n l/2 -d lfw-ppm-list.txt lfw-half-)
pids=()
for i in 00 01; do
  if [ "${REUSE:-0}" = 1 ] && [ -f "$work/lfw-detect-$i.jsonl" ] && grep -q '"type":"summary"' "$work/lfw-detect-$i.jsonl"; then
    continue
  fi
  node "$faceapi_dir/run.mjs" detect --list "$work/lfw-half-$i" --out "$work/lfw-detect-$i.jsonl" 2> "$work/lfw-detect-$i.log" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done

# 3. score
node "$faceapi_dir/run.mjs" score "$work/lfw-ppm/pairs.csv" "$work/lfw-detect-00.jsonl" "$work/lfw-detect-01.jsonl" \
  --out "$work/lfw-score.jsonl" 2> "$work/lfw-score.log"

# 4. CSV with the original paths
python3 - "$data/pairs.csv" "$work/lfw-ppm" "$work/lfw-score.jsonl" "$out_csv" <<'EOF'
import csv, json, os, sys
pairs_csv, ppm_root, score_file, out = sys.argv[1:]
pairs = list(csv.DictReader(open(pairs_csv)))
rows = [json.loads(l) for l in open(score_file) if l.strip()]
pair_rows = [r for r in rows if r["type"] == "pair"]
summary = [r for r in rows if r["type"] == "pairs_summary"][0]
assert len(pair_rows) == len(pairs), (len(pair_rows), len(pairs))
ppm = lambda p: os.path.join(ppm_root, p[:-4] + ".ppm")
with open(out, "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["path_a", "path_b", "same", "fold", "distance"])
    for p, r in zip(pairs, pair_rows):
        # run.mjs emits the pairs in file order; check the mapping back to the .jpg names
        assert (r["a"], r["b"]) == (ppm(p["path_a"]), ppm(p["path_b"])), (r, p)
        assert r["same"] == (p["same"] == "1")
        w.writerow([p["path_a"], p["path_b"], p["same"], p["fold"],
                    "" if r["distance"] is None else f"{r['distance']:.6f}"])
print(json.dumps(summary))
EOF
