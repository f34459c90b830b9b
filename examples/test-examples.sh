#!/usr/bin/env bash
# Runs tofu-echo-server on TCP + UDS + abstract UDS (one multi-homed
# server), checks the "listening on" lines carry real ports/paths, runs
# tofu-echo-client over each, the reconnecting client against the server and
# against nothing, then stops the server with SIGTERM and checks it exits 0.
set -euo pipefail
bin=${1:-build/bin}
tmp=$(mktemp -d)
srv=
cleanup() {
	[ -n "$srv" ] && kill "$srv" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

"$bin/tofu-echo-server" 'tcp|127.0.0.1|0' "uds|$tmp/echo.sock" "uds|@tofu-ex-$$" \
	>"$tmp/out" 2>"$tmp/err" &
srv=$!
for _ in $(seq 100); do
	[ "$(grep -c '^listening on ' "$tmp/out" || true)" = 3 ] && break
	sleep 0.05
done
[ "$(grep -c '^listening on ' "$tmp/out")" = 3 ] || { echo "server did not start"; cat "$tmp/err"; exit 1; }
tcp=$(sed -n 's/^listening on \(tcp|.*\)$/\1/p' "$tmp/out")
port=${tcp##*|}
[ "$port" -gt 0 ] || { echo "no real port in: $tcp"; exit 1; }
grep -qx "listening on uds|$tmp/echo.sock" "$tmp/out"
grep -qx "listening on uds|@tofu-ex-$$" "$tmp/out"

for addr in "$tcp" "uds|$tmp/echo.sock" "uds|@tofu-ex-$$"; do
	timeout 60 "$bin/tofu-echo-client" "$addr" 2000 1000
	timeout 60 "$bin/tofu-echo-client" "$addr" 3 65535 >/dev/null
	timeout 60 "$bin/tofu-echo-client" "$addr" 0 0 >/dev/null
done
timeout 60 "$bin/tofu-reconnect-client" "$tcp" 3 10000 3 | tee "$tmp/rc"
grep -q '^done: 3 requests echoed' "$tmp/rc"

# A wrong address: the client reports the failure and exits 1.
if timeout 30 "$bin/tofu-echo-client" "uds|$tmp/nobody.sock" 1 1 2>"$tmp/cerr"; then
	echo "client to nowhere succeeded"; exit 1
fi
grep -q uds_path_not_found "$tmp/cerr"

kill -TERM "$srv"
rc=0
wait "$srv" || rc=$?
srv=
[ $rc = 0 ] || { echo "server exit status $rc"; cat "$tmp/err"; exit 1; }
[ ! -e "$tmp/echo.sock" ] || { echo "socket file left behind"; exit 1; }

# Nobody listening: the supervisor gives up after 3 failures in 10 s.
set +e
timeout 60 "$bin/tofu-reconnect-client" "uds|$tmp/echo.sock" 3 10000 >"$tmp/rc2"
rc=$?
set -e
[ $rc = 3 ] || { echo "reconnect client exit $rc"; cat "$tmp/rc2"; exit 1; }
grep -q '^giving up: 3 failures within 10000 ms' "$tmp/rc2"
[ "$(grep -c '^retry in' "$tmp/rc2")" = 2 ]
echo "test-examples: ok"
