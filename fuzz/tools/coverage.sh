#!/usr/bin/env bash
# coverage.sh OUTDIR "HARNESSES" "CODEC SOURCES" LLVM_PROFDATA LLVM_COV
# Replays each harness's corpus (plus regress files) through its
# -fprofile-instr-generate build and reports region/line/branch coverage of
# the codec file(s) the harness targets, then of the whole codec by all the
# corpora together. Reports: OUTDIR/coverage/{summary.txt,<h>.txt,all.txt}.
set -euo pipefail
out=$1 harnesses=$2 srcs=$3 profdata=$4 cov=$5
dir=$out/coverage
rm -rf "$dir"
mkdir -p "$dir"

target() {
	case $1 in
	header) echo codec/src/header.c codec/src/frame.c ;;
	th_iter | th_validate) echo codec/src/textheaders.c ;;
	address) echo codec/src/address.c ;;
	stream) echo codec/src/frame.c ;;
	engine) echo engine/src/*.c ;;
	*) echo "$srcs" ;;
	esac
}

row() { # name inputs files report
	local tot
	tot=$(grep '^TOTAL' "$4" || true)
	[ -n "$tot" ] || tot=$(tail -1 "$4") # a single file has no TOTAL line
	read -r _ rg rgm rgc _ _ _ ln lnm lnc br brm brc <<<"$tot"
	printf '%-12s %6s  %-40s %-22s %-22s %-22s\n' "$1" "$2" "$3" "$rgc of $rg" "$lnc of $ln" \
		"$brc of $br" | tee -a "$dir/summary.txt"
}

printf '%-12s %6s  %-40s %-22s %-22s %-22s\n' harness inputs files regions lines branches |
	tee "$dir/summary.txt"
objs=()
for h in $harnesses; do
	bin=$out/cov/bin/fuzz_$h
	objs+=(-object "$bin")
	dirs=()
	for d in fuzz/corpus/$h fuzz/regress/$h; do [ -d "$d" ] && dirs+=("$d"); done
	n=$(find "${dirs[@]}" -type f | wc -l)
	# File by file: an open finding may still abort, the rest still counts.
	find "${dirs[@]}" -type f | sort | while read -r f; do
		(LLVM_PROFILE_FILE="$dir/$h-%p.profraw" "$bin" "$f" >/dev/null 2>&1) 2>/dev/null || true
	done 2>/dev/null
	"$profdata" merge -sparse "$dir"/"$h"-*.profraw -o "$dir/$h.profdata"
	rm -f "$dir"/"$h"-*.profraw
	t=$(target "$h")
	# shellcheck disable=SC2086
	"$cov" report "$bin" -instr-profile="$dir/$h.profdata" $t >"$dir/$h.txt"
	row "$h" "$n" "$(echo $t | sed 's|codec/src/||g')" "$dir/$h.txt"
done
"$profdata" merge -sparse "$dir"/*.profdata -o "$dir/all.profdata.tmp"
mv "$dir/all.profdata.tmp" "$dir/all.profdata"
first=${objs[1]}
# shellcheck disable=SC2086
"$cov" report "$first" "${objs[@]:2}" -instr-profile="$dir/all.profdata" $srcs >"$dir/all.txt"
row all "-" "whole codec (all corpora)" "$dir/all.txt"
echo "reports: $dir/ (llvm-cov show -format=html for line detail)"
