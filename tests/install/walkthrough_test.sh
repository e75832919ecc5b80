#!/usr/bin/env bash
# README's integrator walkthrough, run as written: starts tools/serve.sh (with
# the binaries of BUILD_DIR instead of a Release build, in a temporary data
# directory, on a free loopback port), then runs every command between the
# README's walkthrough markers with only these substitutions:
#   build/release → BUILD_DIR, 127.0.0.1:7443 → the test's port,
#   var/ → the test's data directory, /tmp/ → the test's scratch directory.
# Passes when every command succeeds and both examples print an official case
# number and a verified evidence receipt. Also checks serve.sh's promises: a
# ready-to-use server (catalogue, town, squad, leader, officers, 0600
# secrets) and a refusal that names the holder when the port is taken.
#   walkthrough_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
source=$(cd "$2" && pwd)
work=$(mktemp -d)
serve_pid=
cleanup() {
  if [[ -n $serve_pid ]] && kill -0 "$serve_pid" 2>/dev/null; then
    kill -TERM "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "walkthrough: $*" >&2; exit 1; }

# --- serve.sh, as README's first command, on a free port. ---
cd "$source"
for attempt in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 40000))
  PALM_SERVE_BIN_DIR=$build tools/serve.sh --listen "127.0.0.1:$port" --data-dir "$work/var" \
    >"$work/serve.out" 2>"$work/serve.err" &
  serve_pid=$!
  for _ in $(seq 1 300); do
    grep -q "Stop with Ctrl-C" "$work/serve.out" 2>/dev/null && break 2
    kill -0 "$serve_pid" 2>/dev/null || break
    sleep 0.1
  done
  wait "$serve_pid" 2>/dev/null || true
  serve_pid=
  grep -q "already in use" "$work/serve.err" || { cat "$work/serve.out" "$work/serve.err" >&2; fail "serve.sh did not start"; }
done
[[ -n $serve_pid ]] || fail "no free port after 5 tries"

grep -q "Loaded the SAMPLE matter catalogue" "$work/serve.out" || fail "serve.sh did not load the sample catalogue"
grep -q "palmctl auth login --officer leader-wutong" "$work/serve.out" || fail "serve.sh does not say how the squad leader signs in"
grep -q "palmctl squad status" "$work/serve.out" || fail "serve.sh does not say how to see squad status"
for who in admin leader-wutong officer-li officer-zhang; do
  mode=$(stat -c %a "$work/var/pki/$who.secret")
  [[ $mode == 600 ]] || fail "var/pki/$who.secret has mode $mode, not 600"
done

# The port is now taken: a second serve.sh refuses before touching anything.
if PALM_SERVE_BIN_DIR=$build tools/serve.sh --listen "127.0.0.1:$port" --data-dir "$work/other" \
    >"$work/second.out" 2>"$work/second.err"; then
  fail "a second serve.sh on a taken port did not fail"
fi
grep -q "^serve.sh: port $port is already in use by palm-server (pid [0-9]*); stop it, or choose another port with --listen 127.0.0.1:PORT. Nothing was built or changed.$" \
  "$work/second.err" || { cat "$work/second.err" >&2; fail "the taken-port refusal is not as documented"; }
[[ ! -e $work/other ]] || fail "serve.sh touched its data directory although the port was taken"

# --- The walkthrough, exactly as README has it. ---
mkdir -p "$work/tmp"
script=$(sed -n '/<!-- walkthrough:begin -->/,/<!-- walkthrough:end -->/p' README.md |
  sed '/^<!--/d; /^```/d')
[[ -n $script ]] || fail "README.md has no walkthrough between the markers"
script=${script//build\/release/$build}
script=${script//127.0.0.1:7443/127.0.0.1:$port}
script=${script//\/tmp\//$work/tmp/}
script=${script//var\//$work/var/}
printf 'set -euxo pipefail\nexport PALMCTL_CONFIG=/dev/null\n%s\n' "$script" >"$work/walkthrough.sh"
env -u LD_LIBRARY_PATH bash "$work/walkthrough.sh" >"$work/walkthrough.out" 2>"$work/walkthrough.err" || {
  cat "$work/walkthrough.out" "$work/walkthrough.err" >&2
  fail "a walkthrough command failed"
}
cat "$work/walkthrough.out"

# Both examples: an official case number and a verified receipt, each.
numbers=$(grep -c '^case number: *桐综执罚〔20[0-9][0-9]〕[0-9]*号$' "$work/walkthrough.out" || true)
[[ $numbers == 2 ]] || fail "expected 2 official case numbers, saw $numbers"
verified=$(grep -c '^evidence receipt: verifies$' "$work/walkthrough.out" || true)
[[ $verified == 2 ]] || fail "expected 2 verified receipts, saw $verified"
tickets=$(grep -c '^ticket number: *桐综执简' "$work/walkthrough.out" || true)
[[ $tickets == 2 ]] || fail "expected 2 ticket numbers, saw $tickets"
echo "walkthrough test passed"
