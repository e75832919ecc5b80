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
# The first run makes the server ready to use:
#   - a development bureau PKI under DATA_DIR/pki: the CA (palmctl ca init), the
#     server certificate, operator certificates for palmctl, a bootstrap admin;
#   - the SAMPLE matter catalogue (tools/data/sample-catalog.json, labelled so);
#   - town wutong (梧桐街道) with squad wutong-1 (梧桐中队), its squad leader
#     leader-wutong, two credentialed officers, and two enrolled handhelds
#     (DATA_DIR/pki/devices/demo and demo-2).
# Every secret is generated, kept 0600 under DATA_DIR/pki, and never printed.
# Later runs reuse all of it. With the port taken it stops before building
# anything or touching DATA_DIR, and says which process holds the port.
#
#   --data-dir DIR            keep the store and the PKI in DIR (default ./var)
#   PALM_SERVE_BIN_DIR=DIR    use palm-server, palmctl, palm-sim already built
#                             in DIR (a build tree) instead of building Release
set -euo pipefail
cd "$(dirname "$0")/.."

demo=0
listen=127.0.0.1:7443
data=var
server_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --demo) demo=1 ;;
    --listen) [[ $# -ge 2 ]] || { echo "serve.sh: --listen needs HOST:PORT" >&2; exit 2; }
              listen=$2; shift ;;
    --data-dir) [[ $# -ge 2 ]] || { echo "serve.sh: --data-dir needs a directory" >&2; exit 2; }
              data=$2; shift ;;
    --) shift; server_args+=("$@"); break ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "serve.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# --- Is the port free? Checked first: a taken port changes nothing. ---
# Who listens on TCP port $1: "NAME (pid N)", "another process" when the
# socket's owner is not visible to us, or nothing when the port is free.
port_holder() {
  local port_hex inode pid fd
  port_hex=$(printf '%04X' "$1")
  # /proc/net/tcp{,6}: local_address is HEXIP:HEXPORT, st 0A is LISTEN.
  inode=$(awk -v p=":$port_hex" 'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p \
          { print $10; exit }' /proc/net/tcp /proc/net/tcp6 2>/dev/null)
  [[ -n $inode ]] || return 0
  for fd in /proc/[0-9]*/fd/*; do
    if [[ $(readlink "$fd" 2>/dev/null) == "socket:[$inode]" ]]; then
      pid=${fd#/proc/}; pid=${pid%%/*}
      echo "$(cat "/proc/$pid/comm" 2>/dev/null || echo unknown) (pid $pid)"
      return 0
    fi
  done
  echo "another process"
}
port=${listen##*:}
if [[ ! $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
  echo "serve.sh: --listen $listen has no valid port (want HOST:PORT)" >&2
  exit 2
fi
holder=$(port_holder "$port")
if [[ -n $holder ]]; then
  echo "serve.sh: port $port is already in use by $holder; stop it, or choose another" \
    "port with --listen 127.0.0.1:PORT. Nothing was built or changed." >&2
  exit 1
fi

if [[ -n ${PALM_SERVE_BIN_DIR:-} ]]; then
  build=$PALM_SERVE_BIN_DIR
else
  tools/setup.sh
  build=${PALM_SERVE_BUILD_DIR:-build/release}
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPALM_BUILD_TESTS=OFF >/dev/null
  ninja -C "$build" palm-server palmctl palm-sim >"$build/serve-build.log" 2>&1 || {
    cat "$build/serve-build.log" >&2
    echo "serve.sh: the build failed (log above, also in $build/serve-build.log)" >&2
    exit 1
  }
fi

server_bin="$build/server/palm-server"
palmctl="$build/tools/palmctl/palmctl"
sim="$build/tools/sim/palm-sim"
pki=$data/pki
admin=admin
town=wutong town_name=梧桐街道
squad=wutong-1 squad_name=梧桐中队
leader=leader-wutong
officers=(officer-li officer-zhang)

# --- Development PKI and secrets (each piece only when missing). ---
mkdir -p "$data"
mkdir -p -m 0700 "$pki"
[[ -f $pki/ca/ca.crt ]] || "$palmctl" ca init --dir "$pki/ca" --bureau "Palm Development Bureau" >/dev/null
[[ -f $pki/server/server.crt ]] || "$palmctl" server cert --ca "$pki/ca" --out "$pki/server" >/dev/null
[[ -f $pki/operator/client.crt ]] ||
  "$palmctl" operator cert --ca "$pki/ca" --name "$admin" --out "$pki/operator" >/dev/null
[[ -f $pki/leader/client.crt ]] ||
  "$palmctl" operator cert --ca "$pki/ca" --name "station-$town" --out "$pki/leader" >/dev/null
for who in "$admin" "$leader" "${officers[@]}"; do
  if [[ ! -s $pki/$who.secret ]]; then
    (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$pki/$who.secret"; echo >>"$pki/$who.secret")
  fi
done

# The server's structured log: on stderr, or with --demo in a file so that
# the story stays readable.
server_log=stderr
exec 3>&2
if ((demo)); then
  server_log=$data/palm-server.log
  exec 3>"$server_log"
fi

# --- The server, in its own session so that Ctrl-C reaches only this script,
# which then stops the server with SIGTERM (in-flight calls drain). ---
setsid "$server_bin" --listen "$listen" --data-dir "$data" \
  --tls-cert "$pki/server/server.crt" --tls-key "$pki/server/server.key" \
  --client-ca "$pki/server/ca.crt" \
  --bootstrap-admin "$admin" --bootstrap-secret-file "$pki/$admin.secret" \
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

ctl() {
  PALMCTL_SERVER=$listen PALMCTL_CERT_DIR=$pki/operator PALMCTL_TOKEN_FILE=$pki/$admin.token \
    PALMCTL_CONFIG=/dev/null "$palmctl" "$@"
}
# Sign the admin in (this also waits until the server listens).
for _ in $(seq 1 100); do
  kill -0 "$server_pid" 2>/dev/null || { echo "serve.sh: palm-server did not start" >&2; exit 1; }
  if ctl auth login --officer "$admin" --out "$pki/$admin.token" <"$pki/$admin.secret" \
      >/dev/null 2>&1; then
    break
  fi
  sleep 0.2
done
[[ -s $pki/$admin.token ]] || { echo "serve.sh: cannot sign in as $admin" >&2; exit 1; }

# --- A server ready to use: catalogue, town, squad, people, one device. ---
if [[ ! -f $data/ready ]]; then
  if ! ctl catalog show >/dev/null 2>&1; then
    ctl catalog load tools/data/sample-catalog.json --calendar tools/data/sample-calendar.json >/dev/null
    echo "Loaded the SAMPLE matter catalogue (tools/data/sample-catalog.json): illustrative" \
      "entries for development, NOT the bureau's real catalogue; and the SAMPLE working-day" \
      "calendar for 2026 and 2027 (tools/data/sample-calendar.json; 2027 is an estimate)."
  fi
  ctl town add --id "$town" --name "$town_name" >/dev/null
  ctl squad add --id "$squad" --town "$town" --name "$squad_name" >/dev/null
  ctl officer add --id "$leader" --name 陈建国 --role squad-leader --town "$town" \
    --squad "$squad" --sworn --certificate-number ZJ-33048301 \
    --secret-file "$pki/$leader.secret" >/dev/null
  ctl officer add --id officer-li --name 李明 --role officer --town "$town" --squad "$squad" \
    --sworn --certificate-number ZJ-33048302 --secret-file "$pki/officer-li.secret" >/dev/null
  ctl officer add --id officer-zhang --name 张伟 --role officer --town "$town" --squad "$squad" \
    --sworn --certificate-number ZJ-33048303 --secret-file "$pki/officer-zhang.secret" >/dev/null
  for device in demo demo-2; do
    if [[ ! -f $pki/devices/$device/device.crt ]]; then
      ctl device enroll --ca "$pki/ca" --town "$town" --squad "$squad" \
        --out "$pki/devices/$device" >/dev/null
    fi
  done
  date -u +%FT%TZ >"$data/ready"
fi

cat <<INFO
Palm server: ${listen} (mutual TLS only), store ${data}/, structured log: ${server_log}.
Ready to use: the SAMPLE catalogue; town ${town} (${town_name}) with squad ${squad} (${squad_name});
squad leader ${leader} (陈建国); credentialed officers officer-li (李明) and officer-zhang (张伟);
two enrolled handhelds. Secrets are in ${pki}/<officer>.secret (mode 0600).

The squad leader, at the squad's station:
  export PALMCTL_SERVER=${listen} PALMCTL_CERT_DIR=${pki}/leader PALMCTL_TOKEN_FILE=${pki}/${leader}.token
  ${palmctl} auth login --officer ${leader} < ${pki}/${leader}.secret
  ${palmctl} squad status
  ${palmctl} report shift

A handheld (the client library, docs/integrating.md) connects to ${listen}, trusting
the bureau CA ${pki}/ca/ca.crt, with a handheld's certificate in
${pki}/devices/demo/ or ${pki}/devices/demo-2/ (device.crt, device.key; its id in
device-id.txt), and signs in as officer-li or officer-zhang. The admin (${admin}) uses ${pki}/operator/ the same way.
Stop with Ctrl-C: in-flight calls drain and the store closes cleanly.
INFO

if ((demo)); then
  echo
  echo "Demo: a squad of 5 simulated handhelds works a shift offline, then syncs with the server."
  "$sim" --server "$listen" --cert-dir "$pki/ca" --admin "$admin" \
    --admin-secret-file "$pki/$admin.secret" --devices 5 --seed 1 --report || true
  echo
  echo "The server keeps running; Ctrl-C stops it."
fi
wait "$server_pid"
