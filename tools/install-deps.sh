#!/usr/bin/env bash
# Installs what building and testing tofu-c needs, on Debian, when missing.
# Called by `make` (through a stamp) and by .ci/run; a no-op when all is there.
set -euo pipefail

debs=(
	ragel libcmocka-dev clang llvm libclang-rt-14-dev clang-format pkg-config
	gcc-s390x-linux-gnu gcc-powerpc-linux-gnu qemu-user
	# The cross compilers only recommend their C library; we install
	# without recommends, so name it (headers, crt files, static libc).
	libc6-dev-s390x-cross libc6-dev-powerpc-cross
	libzmq3-dev valgrind iproute2 tshark afl++ python3-pip
)
# Foreign-architecture packages: cmocka for the s390x (big-endian) tests.
foreign_arch=s390x
foreign_debs=(libcmocka-dev:s390x)
pips=(hypothesis pytest jsonschema)

missing=()
for p in "${debs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
need_arch=0
dpkg --print-foreign-architectures | grep -qx "$foreign_arch" || need_arch=1
for p in "${foreign_debs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	echo "install-deps: installing ${missing[*]}"
	sudo=""
	[ "$(id -u)" = 0 ] || sudo="sudo"
	[ $need_arch = 0 ] || $sudo dpkg --add-architecture "$foreign_arch"
	$sudo apt-get update -q
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

py=${PYTHON:-python3}
pmissing=()
for p in "${pips[@]}"; do
	"$py" -c "import $p" 2>/dev/null || pmissing+=("$p")
done
if [ ${#pmissing[@]} -gt 0 ]; then
	echo "install-deps: pip installing ${pmissing[*]}"
	"$py" -m pip install -q "${pmissing[@]}" 2>/dev/null ||
		"$py" -m pip install -q --break-system-packages "${pmissing[@]}"
fi
echo "install-deps: all present"
