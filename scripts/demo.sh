#!/usr/bin/env bash
# demo.sh: start a small socat lab on loopback (ephemeral ports), run the
# check_socat binaries against it with real arguments, print each command
# and its output, and stop the lab by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
lab=$(mktemp -d /tmp/check_socat_demo.XXXXXX)
pids=()

stop_lab() {
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$lab"
}
trap stop_lab EXIT

# start VAR NAME SOCAT-ARGS...: run socat in its own process group, wait for
# its "listening on" line and store the port it picked in VAR. Not called
# in $(...): a subshell would lose the PID, and the lab would outlive us.
start() {
  local var=$1 name=$2; shift 2
  setsid socat -d -d -lp "socat-demo-$name" "$@" 2>"$lab/$name.log" >/dev/null &
  pids+=($!)
  for _ in $(seq 200); do
    if grep -q 'listening on' "$lab/$name.log" 2>/dev/null; then
      printf -v "$var" '%s' "$(grep -o 'listening on [^"]*[0-9.]*:[0-9]*' "$lab/$name.log" | head -1 | sed 's/.*://')"
      return
    fi
    sleep 0.05
  done
  echo "demo: socat $name did not start:" >&2; cat "$lab/$name.log" >&2; exit 1
}

# quote ARG: the argument as a user would type it in a shell.
quote() {
  if [[ $1 =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then printf '%s' "$1"
  else printf "'%s'" "${1//\'/\'\\\'\'}"; fi
}

show() {
  printf '\n$'
  for a in "$@"; do printf ' '; quote "$a"; done
  printf '\n'
  local rc=0
  "$@" || rc=$?
  printf '(exit %d)\n' "$rc"
}

echo "Lab in $lab:"
openssl req -x509 -newkey rsa:2048 -nodes -days 90 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$lab/server.key" -out "$lab/server.crt" 2>/dev/null
cat "$lab/server.crt" "$lab/server.key" > "$lab/server.pem"
chmod 600 "$lab/server.key" "$lab/server.pem"
# The same certificate and key, readable by everyone: what the file audit flags.
cp "$lab/server.pem" "$lab/exposed.pem"; chmod 644 "$lab/exposed.pem"

L=TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr
start echo_port echo "$L" EXEC:cat
start relay_port relay "$L,max-children=20" "TCP:127.0.0.1:$echo_port"
start tls_port tls "OPENSSL-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,verify=0,cert=$lab/server.pem" "TCP:127.0.0.1:$echo_port"
dead_backend=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 9)
start dead_port dead "$L" "TCP:127.0.0.1:$dead_backend"
start mtls_port mtls "OPENSSL-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,cert=$lab/server.pem,cafile=$lab/server.crt" "TCP:127.0.0.1:$echo_port"
start legacy_port legacy "OPENSSL-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,verify=0,cert=$lab/server.pem,cipher=ALL:eNULL:@SECLEVEL=0,min-version=TLS1" "TCP:127.0.0.1:$echo_port"
cat <<INFO
  echo backend       socat $L EXEC:cat                              -> 127.0.0.1:$echo_port
  plain relay        socat $L,max-children=20 TCP:<echo>            -> 127.0.0.1:$relay_port
  TLS relay          socat OPENSSL-LISTEN:...,verify=0,cert=... TCP:<echo> -> 127.0.0.1:$tls_port
  dead-backend relay socat $L TCP:127.0.0.1:$dead_backend (nothing there) -> 127.0.0.1:$dead_port
  mTLS relay         socat OPENSSL-LISTEN:...,cert=...,cafile=... TCP:<echo> -> 127.0.0.1:$mtls_port
  legacy TLS relay   socat OPENSSL-LISTEN:...,cipher=ALL:eNULL:@SECLEVEL=0,min-version=TLS1 TCP:<echo> -> 127.0.0.1:$legacy_port
INFO

E=$BIN/check_socat_endpoint
show $E -H 127.0.0.1 -p "$relay_port" -s 'ping\n' -e ping -w 0.5 -c 1
show $E -H 127.0.0.1 -p "$relay_port" --echo-bytes 4M --connections 4
show $E -H 127.0.0.1 -p "$tls_port" --tls --ca-file "$lab/server.crt" -s hello -e hello -v
show $E -H 127.0.0.1 -p "$dead_port"
show $E -H 127.0.0.1 -p "$dead_port" --http-status 200-399 --retries 2 --retry-delay 200ms
show $E -H 127.0.0.1 -p "$dead_backend" --refused-state ok
show $E -H 127.0.0.1 -p "$relay_port" -t soon

P=$BIN/check_socat_procs
show $P --match socat-demo- --expect-listen "127.0.0.1:$relay_port" --allowed-ports "1024-65535" --ignore no-retry --ignore runs-as-root
show $P --cmdline "socat TCP-LISTEN:2375,fork,reuseaddr UNIX-CONNECT:/var/run/docker.sock"
show $P --cmdline "socat -d -d -T 60 OPENSSL-LISTEN:8443,fork,max-children=50,cert=/etc/ssl/relay.pem,cafile=/etc/ssl/clients-ca.pem,range=10.0.0.0/8 TCP:127.0.0.1:8080,retry=3"

T=$BIN/check_socat_tls
show $T -H 127.0.0.1 -p "$tls_port" --ca-file "$lab/server.crt"
show $T -H 127.0.0.1 -p "$legacy_port" --ca-file "$lab/server.crt"
show $T -H 127.0.0.1 -p "$mtls_port" --ca-file "$lab/server.crt" --require-client-auth --cert-only -v
show $T --cert-file "$lab/exposed.pem" --hostname localhost --ca-file "$lab/server.crt"
show $T -H 127.0.0.1 -p "$echo_port" -t 2

# The lab's socat processes log to $lab/NAME.log (stderr, -d -d -lp socat-demo-NAME).
G=$BIN/check_socat_logs
show $G -f "$lab/relay.log" --state-dir "$lab/state"
show $E -H 127.0.0.1 -p "$relay_port" -s 'again\n' -e again
show $G -f "$lab/relay.log" --state-dir "$lab/state"
show $G -f "$lab/dead.log" --no-state --show 2
show $G -f "$lab/mtls.log" -f "$lab/tls.log" --no-state --show 1 -w tls_failure=5
# The TLS audits above came from 127.0.0.1: --ignore-peer keeps the suite's own probes out.
show $G -f "$lab/mtls.log" -f "$lab/tls.log" --no-state --ignore-peer 127.0.0.1/32
