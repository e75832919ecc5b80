#!/usr/bin/env bash
# What each part of the push path costs the store's writer, and how fast the
# push could go with no store work at all (docs/benchmarks.md, "push: the
# ceiling on this machine").
#
# Builds palm-server and palm-bench from HEAD with tools/bench/ablation.patch
# applied (source: build/ablation-src, a git worktree; build: build/ablation;
# both kept, so a rerun rebuilds only what changed; uncommitted changes are
# not included). The patch makes palm-server skip the parts named in
# PALM_ABLATE; the product never carries it. Then it runs
# tools/bench/writer-cpu.sh once per configuration per round, alternating:
#   none           nothing skipped (the baseline, same binary)
#   audit          no audit_log row (the entry is still built and hashed)
#   device-log     no device_log row and no mutation-id lookup (idempotency)
#   change-log     no change_log row (positions are still counted)
#   evidence-log   no Merkle leaf, nodes or log size
#   all            the four above: entity rows and validation only
#   store          no store work at all: each mutation answered APPLIED on
#                  the writer thread (gRPC, parsing, digests, answers only)
# and prints each configuration's per-run figures and medians.
#
# Usage: tools/bench/ablation.sh [ROUNDS]   (default 2; ~45 s per
# configuration per round, plus the first build). Needs what writer-cpu.sh
# needs (perf) and git.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-2}
src=build/ablation-src
build=build/ablation

if [ -d "$src" ]; then
  git -C "$src" checkout -q --detach -f "$(git rev-parse HEAD)"
else
  git worktree prune
  git worktree add -q --detach "$src" HEAD
fi
git -C "$src" apply "$PWD/tools/bench/ablation.patch"
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPALM_BUILD_TESTS=OFF >/dev/null
ninja -C "$build" palm-bench palm-server >/dev/null

results=$(mktemp)
trap 'rm -f "$results"; git -C "$src" checkout -q -f HEAD 2>/dev/null || true' EXIT
configs=(none audit device-log change-log evidence-log all store)
for round in $(seq 1 "$rounds"); do
  for config in "${configs[@]}"; do
    case "$config" in
      none) ablate="" ;;
      all) ablate="audit,device-log,change-log,evidence-log" ;;
      *) ablate="$config" ;;
    esac
    out=$(PALM_ABLATE="$ablate" tools/bench/writer-cpu.sh "$build")
    echo "round $round, $config: $(echo "$out" | tr '\n' ' ')"
    printf '%s\t%s\n' "$config" "$(echo "$out" | tr '\n' ' ')" >>"$results"
  done
done
python3 - "$results" <<'EOF'
import re, statistics, sys
cpu, rate, floor = {}, {}, {}
order = []
for line in open(sys.argv[1]):
    config, text = line.rstrip("\n").split("\t")
    if config not in order:
        order.append(config)
    ms = re.search(r"per run: ([\d ]+) push", text).group(1).split()
    rates = re.search(r"mutations/s per run: ([\d, ]+) \(", text).group(1).split(", ")
    cpu.setdefault(config, []).extend(int(x) for x in ms)
    rate.setdefault(config, []).extend(int(x.replace(",", "")) for x in rates)
    floor.setdefault(config, []).append(int(re.search(r"floor ([\d,]+)", text).group(1).replace(",", "")))
base = statistics.median(cpu["none"])
print(f"{'config':<14} {'writer ms (median)':>18} {'vs none':>8} {'push/s (median)':>16} {'x floor':>8}")
for c in order:
    m = statistics.median(cpu[c])
    r = statistics.median(rate[c])
    f = statistics.median(floor[c])
    print(f"{c:<14} {m:>18,.0f} {100 * (m - base) / base:>+7.0f}% {r:>16,.0f} {f / r:>8.2f}")
EOF
