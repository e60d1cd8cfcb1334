#!/usr/bin/env bash
# The PostgreSQL figures of issue 15 (docs/PERFORMANCE.md, "Several servers on PostgreSQL"):
# a throw-away PostgreSQL cluster (initdb + pg_ctl in a temporary folder, as the `postgres` user
# when run as root), then facetrail-bench-server-load over one gallery in it:
#   1. one server pinned to CPU 0;
#   2. two servers, pinned to CPU 0 and CPU 1 (each server with a core of its own; PostgreSQL and
#      the load generator share them: on a 2-core machine that is what can be shown);
#   3. for comparison, one server on the same gallery in SQLite, pinned to CPU 0.
# Every run counts the search.request audit entries against the 201 answers. Then
#   4. enrolment of ENROLL_PHOTOS (default 1,000) LFW photos (../shared/data/lfw-deepfunneled-dev,
#      the first in path order, one booking each) with `facetrail enroll`, the real pipeline on
#      2 workers, into SQLite and into PostgreSQL: rows/s (0 skips it);
#   5. facetrail-bench-gallery-sync on both engines (SYNC_TEMPLATES random 512-d templates, the
#      default model's dimension):
#      insert rate, a server's cold open without its snapshot (every row read) and with it.
#
#   bash bench/postgres.sh   (after scripts/build; GALLERY=N CLIENTS=C SECONDS_PER_RUN=S
#                             ENROLL_PHOTOS=P SYNC_TEMPLATES=T)
#   BUILD_DIR selects the build folder (default build); KEEP=1 keeps the cluster's folder.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BUILD_DIR:-build}
gallery=${GALLERY:-1000000}
clients=${CLIENTS:-50}
seconds=${SECONDS_PER_RUN:-60}
pg_bin=${FACETRAIL_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), $(nproc) CPUs"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "postgresql: $("$pg_bin/postgres" --version)"
work=$(mktemp -d /tmp/ft-pgbench.XXXXXX)
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$work"
  as_pg=(runuser -u postgres --)
fi
port=$((20000 + $$ % 10000))
cleanup() {
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/data" -m fast stop >/dev/null 2>&1 || true
  if [ -z "${KEEP:-}" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
"${as_pg[@]}" "$pg_bin/initdb" -D "$work/data" -U postgres --auth=trust >/dev/null
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/data" -l "$work/log" -w \
  -o "-p $port -k $work -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
"${as_pg[@]}" "$pg_bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE facetrail"
uri="postgresql://postgres@127.0.0.1:$port/facetrail"
snap="$work/snapshots"
run() {  # label, then bench arguments
  local label=$1
  shift
  echo "== $label"
  "$bin/facetrail-bench-server-load" --gallery "$gallery" --clients "$clients" --seconds "$seconds" \
    --slow-clients 0 --idle-clients 0 "$@" 2>"$work/bench.log" |
    python3 -c 'import json,sys; r=json.load(sys.stdin); print(json.dumps({k: r[k] for k in ("database","servers","cpus_per_server","gallery_templates","searches_per_second","server_cpu_ms_per_search","latency_ms_p50","latency_ms_p99","responses_by_status","transport_errors","audit_matches_requests")}))'
}
# Build the PostgreSQL gallery once (timed), then the runs reuse it.
start=$(date +%s.%N)
run "one server, PostgreSQL (builds the gallery)" --db "$uri" --servers 1 --cpus-per-server 1 \
  --seconds 5 --serve-arg --snapshot-dir --serve-arg "$snap/{server}"
echo "gallery build + 5 s run: $(python3 -c "print(round($(date +%s.%N) - $start))") s"
run "one server, PostgreSQL" --db "$uri" --reuse --servers 1 --cpus-per-server 1 \
  --serve-arg --snapshot-dir --serve-arg "$snap/{server}"
run "two servers, PostgreSQL" --db "$uri" --reuse --servers 2 --cpus-per-server 1 \
  --serve-arg --snapshot-dir --serve-arg "$snap/{server}"
run "one server, SQLite" --dir "$work/sqlite" --servers 1 --cpus-per-server 1
photos=${ENROLL_PHOTOS:-1000}
lfw=${LFW_DIR:-../shared/data/lfw-deepfunneled-dev}/images
if [ "$photos" -gt 0 ]; then
  mkdir -p "$work/enroll"
  # (awk reads the whole list: `head` would end the pipe early, a failure under pipefail)
  (cd "$lfw" && find . -name '*.jpg' | sort |
    awk -F/ -v n="$photos" 'BEGIN {print "booking_number,name,photo"}
      NR <= n {b = $3; sub(/\.jpg$/, "", b); print "LFW-" b "," $2 "," substr($0, 3)}') \
    > "$work/enroll/m.csv"
  "${as_pg[@]}" "$pg_bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE enroll"
  for target in sqlite postgresql; do
    db="$work/enroll/g.db"
    [ "$target" = postgresql ] && db="postgresql://postgres@127.0.0.1:$port/enroll"
    echo "== enrolment, $target, $photos LFW photos"
    "$bin/facetrail" enroll --db "$db" --manifest "$work/enroll/m.csv" --images "$lfw" \
      --threads 2 --json --rejects "$work/enroll/rejects-$target.csv" 2>/dev/null |
      python3 -c 'import json,sys; r=json.load(sys.stdin); print(json.dumps({"rows_per_s": round(r["rows"] / r["seconds"], 1), **{k: r[k] for k in ("rows","enrolled","flagged","rejected","seconds")}}))'
  done
fi
sync=${SYNC_TEMPLATES:-1000000}
"${as_pg[@]}" "$pg_bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE sync"
for target in postgresql sqlite; do
  echo "== gallery open and insert rate, $target, $sync templates"
  db_args=()
  if [ "$target" = postgresql ]; then
    db_args=(--db "postgresql://postgres@127.0.0.1:$port/sync")
  fi
  "$bin/facetrail-bench-gallery-sync" --templates "$sync" --dim 512 --dir "$work/sync-$target" \
    "${db_args[@]}" 2>/dev/null |
    python3 -c 'import json,sys; r=json.load(sys.stdin); print(json.dumps({k: r[k] for k in ("database","templates","populate_templates_per_s","open_rebuild_s","open_snapshot_s","delta_sync_s","search_delta_ms_p50","same_results")}))'
done
