#!/usr/bin/env bash
# Quick start, command 1: set up, build (Release) and run palm-server on
# 127.0.0.1:7443 with the embedded SQLite store under ./var/.
#
#   tools/serve.sh            run the server in the foreground (Ctrl-C stops it cleanly)
#   tools/serve.sh --demo     also run a simulated squad shift against it (needs palm-sim)
#   extra flags after `--` go to palm-server, e.g. tools/serve.sh -- --log-level debug
set -euo pipefail
cd "$(dirname "$0")/.."

demo=0
server_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --demo) demo=1 ;;
    --) shift; server_args+=("$@"); break ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "serve.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

tools/setup.sh
build=build/release
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPALM_BUILD_TESTS=OFF >/dev/null
ninja -C "$build" palm-server $( ((demo)) && echo palm-sim palmctl) | grep -v '^ninja: no work to do' || true

listen=127.0.0.1:7443
mkdir -p var
cat <<INFO
Palm server: ${listen}, store ./var/palm.db, structured log on stderr.
Clients connect with gRPC to ${listen} (plaintext on loopback until the bureau PKI is set up);
for example a health check:  grpc.health.v1.Health/Check  →  SERVING.
Stop with Ctrl-C: in-flight calls drain and the store closes cleanly.
INFO

if ((demo)); then
  if [[ ! -x "$build/tools/palm-sim" ]]; then
    echo "serve.sh: --demo needs palm-sim, which this build does not have yet" >&2
    exit 1
  fi
  "$build/server/palm-server" --listen "$listen" --data-dir var --insecure-loopback "${server_args[@]}" &
  server_pid=$!
  trap 'kill -TERM $server_pid 2>/dev/null; wait $server_pid' EXIT
  "$build/tools/palm-sim" --server "$listen" --devices 5 --seed 1 --report
  wait $server_pid
else
  exec "$build/server/palm-server" --listen "$listen" --data-dir var --insecure-loopback "${server_args[@]}"
fi
