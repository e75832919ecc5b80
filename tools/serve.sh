#!/usr/bin/env bash
# Quick start, command 1: set up, build (Release) and run palm-server on
# 127.0.0.1:7443 with the embedded SQLite store under ./var/, TLS only.
#
#   tools/serve.sh            run the server (Ctrl-C stops it cleanly)
#   tools/serve.sh --demo     also run a simulated squad shift (palm-sim, 5
#                             handhelds) against it and print the shift report
#   tools/serve.sh --listen HOST:PORT   listen elsewhere (default 127.0.0.1:7443)
#   extra flags after `--` go to palm-server, e.g. tools/serve.sh -- --log-level debug
#
# The first run creates a development bureau PKI under ./var/pki: the CA
# (palmctl ca init), the server certificate, an operator certificate for
# palmctl, a bootstrap admin with a generated secret (0600) and one enrolled
# demo device with its officer. Later runs reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."

demo=0
listen=127.0.0.1:7443
server_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --demo) demo=1 ;;
    --listen) [[ $# -ge 2 ]] || { echo "serve.sh: --listen needs HOST:PORT" >&2; exit 2; }
              listen=$2; shift ;;
    --) shift; server_args+=("$@"); break ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "serve.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

tools/setup.sh
build=${PALM_SERVE_BUILD_DIR:-build/release}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPALM_BUILD_TESTS=OFF >/dev/null
ninja -C "$build" palm-server palmctl palm-sim >"$build/serve-build.log" 2>&1 || {
  cat "$build/serve-build.log" >&2
  echo "serve.sh: the build failed (log above, also in $build/serve-build.log)" >&2
  exit 1
}

server_bin="$build/server/palm-server"
palmctl="$build/tools/palmctl/palmctl"
sim="$build/tools/sim/palm-sim"
pki=var/pki
admin=admin
demo_town=demo-town
demo_squad=demo-squad
demo_officer=demo-officer

# --- Development PKI (each piece only when missing). ---
mkdir -p var
mkdir -p -m 0700 "$pki"
[[ -f $pki/ca/ca.crt ]] || "$palmctl" ca init --dir "$pki/ca" --bureau "Palm Development Bureau" >/dev/null
[[ -f $pki/server/server.crt ]] || "$palmctl" server cert --ca "$pki/ca" --out "$pki/server" >/dev/null
[[ -f $pki/operator/client.crt ]] ||
  "$palmctl" operator cert --ca "$pki/ca" --name "$admin" --out "$pki/operator" >/dev/null
for secret in admin.secret demo-officer.secret; do
  if [[ ! -s $pki/$secret ]]; then
    (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$pki/$secret"; echo >>"$pki/$secret")
  fi
done

# The server's structured log: on stderr, or with --demo in a file so that
# the story stays readable.
server_log=stderr
exec 3>&2
if ((demo)); then
  server_log=var/palm-server.log
  exec 3>"$server_log"
fi

# --- The server, in its own session so that Ctrl-C reaches only this script,
# which then stops the server with SIGTERM (in-flight calls drain). ---
setsid "$server_bin" --listen "$listen" --data-dir var \
  --tls-cert "$pki/server/server.crt" --tls-key "$pki/server/server.key" \
  --client-ca "$pki/server/ca.crt" \
  --bootstrap-admin "$admin" --bootstrap-secret-file "$pki/admin.secret" \
  ${server_args[@]+"${server_args[@]}"} 2>&3 &
server_pid=$!
stop() {
  trap - INT TERM EXIT
  if kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

export PALMCTL_SERVER=$listen PALMCTL_CERT_DIR=$pki/operator PALMCTL_TOKEN_FILE=$pki/admin.token
# Sign the admin in (this also waits until the server listens).
for _ in $(seq 1 100); do
  kill -0 "$server_pid" 2>/dev/null || { echo "serve.sh: palm-server did not start" >&2; exit 1; }
  if "$palmctl" auth login --officer "$admin" --out "$pki/admin.token" <"$pki/admin.secret" \
      >/dev/null 2>&1; then
    break
  fi
  sleep 0.2
done
[[ -s $pki/admin.token ]] || { echo "serve.sh: cannot sign in as $admin" >&2; exit 1; }

# --- One enrolled demo device, with an officer to sign in on it. ---
if [[ ! -f $pki/devices/demo/device.crt ]]; then
  "$palmctl" device enroll --ca "$pki/ca" --town "$demo_town" --squad "$demo_squad" \
    --out "$pki/devices/demo" >/dev/null
  "$palmctl" officer add --id "$demo_officer" --name "Demo Officer" --role officer \
    --town "$demo_town" --squad "$demo_squad" --sworn --certificate-number ZJ-DEMO-0001 \
    --secret-file "$pki/demo-officer.secret" >/dev/null
fi

cat <<INFO
Palm server: ${listen} (mutual TLS only), store ./var/, structured log: ${server_log}.
Clients connect with gRPC over TLS to ${listen}, trusting the bureau CA ${pki}/ca/ca.crt:
  a handheld   presents the demo device certificate in ${pki}/devices/demo/
               (device.crt, device.key; id in device-id.txt) and signs in as
               officer ${demo_officer} (secret in ${pki}/demo-officer.secret);
  palmctl      presents the operator certificate in ${pki}/operator/ and signs in
               as ${admin} (secret in ${pki}/admin.secret, mode 0600):
    export PALMCTL_SERVER=${listen} PALMCTL_CERT_DIR=${pki}/operator PALMCTL_TOKEN_FILE=${pki}/admin.token
    ${palmctl} auth login --officer ${admin} --out ${pki}/admin.token < ${pki}/admin.secret
    ${palmctl} device list
Stop with Ctrl-C: in-flight calls drain and the store closes cleanly.
INFO

if ((demo)); then
  echo
  echo "Demo: a squad of 5 simulated handhelds works a shift offline, then syncs with the server."
  "$sim" --server "$listen" --cert-dir "$pki/ca" --admin "$admin" \
    --admin-secret-file "$pki/admin.secret" --devices 5 --seed 1 --report || true
  echo
  echo "The server keeps running; Ctrl-C stops it."
fi
wait "$server_pid"
