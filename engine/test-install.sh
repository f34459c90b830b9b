#!/usr/bin/env bash
# test-install: make install into a temporary DESTDIR, then build the echo
# client and server against the installed headers and libraries found via
# pkg-config (shared and static) and run them against each other.
set -euo pipefail
make=$1 dest=$2 cc=${3:-cc}
prefix=/opt/tofu-test
rm -rf "$dest"
$make --no-print-directory install DESTDIR="$dest" PREFIX="$prefix" >/dev/null
root=$dest$prefix
for f in lib/libtofu.a lib/libtofu.so lib/libtofu.so.0 lib/libtofu-codec.a \
	include/tofu/tofu.h include/tofu/codec.h lib/pkgconfig/tofu.pc \
	bin/tofu-echo-server bin/tofu-echo-client bin/tofu-reconnect-client; do
	[ -e "$root/$f" ] || { echo "test-install: missing $f"; exit 1; }
done
grep -qx "prefix=$prefix" "$root/lib/pkgconfig/tofu.pc"

export PKG_CONFIG_PATH=$root/lib/pkgconfig
pc() { pkg-config --define-variable=prefix="$root" "$@" tofu; }
out=$dest/out
mkdir -p "$out"
# Shared: plain pkg-config flags; static: the archive through -Bstatic.
$cc -std=c11 -Wall -Wextra -Werror -pedantic $(pc --cflags) examples/echo_client.c \
	-o "$out/client-shared" $(pc --libs)
$cc -std=c11 -Wall -Wextra -Werror -pedantic $(pc --cflags) examples/echo_server.c \
	-o "$out/server-static" $(pc --libs-only-L) -Wl,-Bstatic -ltofu -Wl,-Bdynamic \
	$(pc --static --libs-only-l | sed 's/-ltofu//')
if ldd "$out/server-static" | grep -q libtofu; then
	echo "test-install: static build links libtofu.so"; exit 1
fi
ldd "$out/client-shared" | grep -q "libtofu.so.0"

name="tofu-install-$$"
"$out/server-static" "uds|@$name" >"$out/server.out" &
srv=$!
trap 'kill $srv 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q '^listening on' "$out/server.out" && break; sleep 0.05; done
LD_LIBRARY_PATH=$root/lib timeout 60 "$out/client-shared" "uds|@$name" 100 100 >/dev/null
kill -TERM $srv
wait $srv
trap - EXIT
echo "test-install: ok (installed to $root, shared + static builds work)"
