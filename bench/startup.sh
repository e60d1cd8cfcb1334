#!/usr/bin/env bash
# Start-up of a one-image run: `facetrail template --json IMG` end to end (hyperfine: wall time,
# and the user + system CPU time of each run), then the same run's stages in one process
# (facetrail-bench-startup: pipeline creation, first and later Process calls, page faults).
#
#   bash bench/startup.sh [IMG…]            (after scripts/build; hyperfine: apt-get install hyperfine)
#   BUILD_DIR selects the build folder (default build); RUNS the hyperfine runs (default 20);
#   MODEL the recognition model (default: the product's default).
# Default images: a 250×250 LFW photo (detected at 256) and a 600×... demo photo (detected at 512).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BUILD_DIR:-build}
runs=${RUNS:-20}
model_args=()
if [ -n "${MODEL:-}" ]; then model_args=(--model "$MODEL"); fi
if [ $# -eq 0 ]; then
  set -- ../shared/data/lfw-deepfunneled-dev/images/Aaron_Patterson/Aaron_Patterson_0001.jpg \
    models/demo/sample2.jpg
fi
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
echo "flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx512|amx)' | tr '\n' ' ')"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for img in "$@"; do
  echo "== $img"
  "$bin/facetrail" template --json "${model_args[@]}" "$img" > "$work/out.json"
  echo "faces: $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["faces"]))' "$work/out.json")"
  hyperfine --warmup 2 --runs "$runs" --export-json "$work/hf.json" --style basic \
    "$bin/facetrail template --json ${model_args[*]} $img" > /dev/null
  for _ in $(seq 5); do
    /usr/bin/time -f "%e %U %S" -a -o "$work/cpu.txt" "$bin/facetrail" template --json \
      "${model_args[@]}" "$img" > /dev/null
  done
  python3 - "$work/hf.json" "$work/cpu.txt" <<'PY'
import json, statistics, sys
r = json.load(open(sys.argv[1]))["results"][0]
t = r["times"]
print(f"wall (hyperfine): median {1000 * statistics.median(t):.0f} ms, min {1000 * min(t):.0f} ms, "
      f"max {1000 * max(t):.0f} ms over {len(t)} runs; mean CPU {1000 * (r['user'] + r['system']):.0f} ms")
cpu = [float(u) + float(s) for _, u, s in (line.split() for line in open(sys.argv[2]))]
print(f"CPU (user+sys, /usr/bin/time, 5 runs): median {1000 * statistics.median(cpu):.0f} ms, "
      f"min {1000 * min(cpu):.0f} ms")
PY
  rm -f "$work/cpu.txt"
  echo "stages (facetrail-bench-startup, network threads 1):"
  "$bin/facetrail-bench-startup" --json "${model_args[@]}" "$img" > "$work/stages.json"
  python3 - "$work/stages.json" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
b = o["before_main"]
print(f"  before main: CPU {b['cpu_ms']:.1f} ms, {b['minor_faults']} faults")
for name, s in [("decode", o["decode"])] + list(o["pipeline_1"].items()):
    print(f"  {name}: {s['wall_ms']:.1f} ms wall, {s['cpu_ms']:.1f} ms CPU, {s['minor_faults']} faults")
t = o["total"]
print(f"  whole process: CPU {t['cpu_ms']:.1f} ms, {t['minor_faults']} faults")
PY
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
