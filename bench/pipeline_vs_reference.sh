#!/usr/bin/env bash
# Our face pipeline and the face-api.js reference on the same LFW images, in one run, each given
# both cores: ours as one process with 2 workers, the reference as two processes (it is
# single-threaded) on the two halves of the list. Prints images/s of each and the ratio.
#
#   bash bench/pipeline_vs_reference.sh [N=200]     (after scripts/build; reference: bash ../shared/peers/faceapi/setup.sh)
#   BUILD_DIR selects the build folder (default build).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200}
peer=../shared/peers/faceapi
data=../shared/data/lfw-deepfunneled-dev
bin=${BUILD_DIR:-build}/facetrail-bench-pipeline
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tail -n +2 "$data/pairs.csv" | cut -d, -f1,2 | tr ',' '\n' | sort -u | awk -v n="$n" 'NR <= n' |
  sed "s|^|$(realpath "$data")/|" > "$work/list.txt"
split -n l/2 -d "$work/list.txt" "$work/half"

echo "== ours (fp32, similarity + flip, 2 workers, detector always at 512)"
"$bin" --list "$work/list.txt" --limit "$n" --threads 2 --detector-512 --json | tee "$work/ours.json"
echo "== ours (bf16, detector at 512)"
"$bin" --list "$work/list.txt" --limit "$n" --threads 2 --bf16 --detector-512 --json | tee "$work/ours_bf16.json"
echo "== ours (bf16, detector in uint8/int8 at 512)"
"$bin" --list "$work/list.txt" --limit "$n" --threads 2 --int8 --detector-512 --json | tee "$work/ours_int8.json"
echo "== ours (default: bf16, detector in uint8/int8, small images detected at 256)"
"$bin" --list "$work/list.txt" --limit "$n" --threads 2 --int8 --json | tee "$work/ours_default.json"
echo "== ours (fr_feature without the default model's projection, otherwise the default)"
"$bin" --list "$work/list.txt" --limit "$n" --threads 2 --int8 --model fr_feature --json | tee "$work/ours_plain.json"
echo "== ours (fr_feature-faceapi, the fusion of both networks, otherwise the default)"
"$bin" --list "$work/list.txt" --limit "$n" --threads 2 --int8 --model fr_feature-faceapi --json | tee "$work/ours_fusion.json"
echo "== ours (the face-api ResNet instead of fr_feature, otherwise the default)"
"$bin" --list "$work/list.txt" --limit "$n" --threads 2 --int8 --model faceapi-resnet --json | tee "$work/ours_resnet.json"
echo "== ours (faceapi parity mode, fp32, the face-api ResNet)"
"$bin" --list "$work/list.txt" --limit "$n" --threads 2 --model faceapi-resnet --align faceapi --json | tee "$work/ours_faceapi.json"

echo "== reference: face-api.js 1.7.15, wasm, two processes"
start=$(date +%s.%N)
(cd "$peer" && node run.mjs detect --warmup 1 --list "$work/half00" --out "$work/ref0.jsonl" >/dev/null) &
(cd "$peer" && node run.mjs detect --warmup 1 --list "$work/half01" --out "$work/ref1.jsonl" >/dev/null) &
wait
end=$(date +%s.%N)
python3 - "$work" "$start" "$end" "$n" <<'PY'
import json, sys
work, start, end, n = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
ref_ips = n / (end - start)   # whole process: start-up, model load, decode, inference
infer = []
for f in ("ref0.jsonl", "ref1.jsonl"):
    for line in open(f"{work}/{f}"):
        r = json.loads(line)
        if r.get("type") == "image":
            infer.append(r["infer_ms"] + r.get("decode_ms", 0))
steady_ips = 2 * 1000 / (sum(infer) / len(infer))  # two processes, per-image work only
print(f"reference: {ref_ips:.2f} images/s whole process (incl. start-up), {steady_ips:.2f} images/s steady state")
for name in ("ours", "ours_bf16", "ours_int8", "ours_default", "ours_plain", "ours_fusion", "ours_resnet", "ours_faceapi"):
    o = json.load(open(f"{work}/{name}.json"))
    print(f"{name}: {o['images_per_s']:.2f} images/s; ratio to the reference steady state {o['images_per_s'] / steady_ips:.1f}x;"
          f" ssd {o['ssd_ms']:.1f} ms, landmarks {o['landmarks_ms']:.2f} ms, recognition {o['recognition_ms']:.2f} ms")
PY
