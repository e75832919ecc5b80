#!/usr/bin/env bash
# The push writer's CPU time, run by run (docs/benchmarks.md, "push: where
# the writer's time goes"). On a shared VM the push rate swings by ±10 %
# with the neighbours; the CPU time of the store's writer thread, which is
# on CPU for nearly the whole push, swings much less, so A/B comparisons of
# two palm-server builds use it.
#
# Usage: tools/bench/writer-cpu.sh [BUILD_DIR]   (default build/rel)
# Runs `palm-bench --only push` (three runs of 100 devices x 1,000
# mutations) and samples each run's palm-server during its push with
# `perf record -F 4000`; prints the busiest thread's samples / 4 = its
# CPU milliseconds, then the push rates. Needs perf (Debian: linux-perf) and
# permission to attach to the server (root, or kernel.perf_event_paranoid
# <= 1). For an A/B, copy each build's palm-server over
# BUILD_DIR/server/palm-server in turn and alternate several times.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/rel}
bench="$build/tools/bench/palm-bench"
command -v perf >/dev/null || { echo "writer-cpu.sh: needs perf (apt-get install linux-perf)" >&2; exit 1; }
[ -x "$bench" ] || { echo "writer-cpu.sh: build $bench first (ninja -C $build palm-bench palm-server)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# perf's first start reads the kernel's symbols and can take a second,
# which would miss the start of the first push.
perf record -q -o "$work/warm.data" -- true >/dev/null 2>&1 || true
"$bench" --only push >"$work/push.json" 2>"$work/progress" &
bench_pid=$!
cpu_ms=()
for run in 1 2 3; do
  # palm-bench announces each push after its server is up and set up.
  until grep -q "run $run/3" "$work/progress" 2>/dev/null; do
    kill -0 "$bench_pid" 2>/dev/null || { cat "$work/progress" >&2; exit 1; }
    sleep 0.02
  done
  server=$(pgrep -n -x palm-server)
  perf record -q -F 4000 -p "$server" -o "$work/run$run.data" >/dev/null 2>&1 &
  perf_pid=$!
  # ... and says when the push is done (the server then idles, checkpoints
  # and exits: not the push's work).
  until grep -q "run $run/3 pushed" "$work/progress" 2>/dev/null; do
    kill -0 "$bench_pid" 2>/dev/null || break
    sleep 0.02
  done
  kill -INT "$perf_pid"
  wait "$perf_pid" || true
  samples=$(perf script -i "$work/run$run.data" -F tid 2>/dev/null | sort | uniq -c | sort -rn |
    awk 'NR == 1 { print $1 }')
  cpu_ms+=("$((samples / 4))")
done
wait "$bench_pid"
echo "writer CPU ms per run: ${cpu_ms[*]}"
python3 - "$work/push.json" <<'EOF'
import json, sys
push = json.load(open(sys.argv[1]))["results"][0]
print("push mutations/s per run:", ", ".join(f"{r:,.0f}" for r in push["runs"]),
      f"(floor {push['floor']:,.0f})")
EOF
