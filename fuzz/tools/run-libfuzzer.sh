#!/usr/bin/env bash
# Runs one libFuzzer harness: run-libfuzzer.sh MODE HARNESS SECONDS OUTDIR [extra flags]
#   smoke     fresh work dir, bounded time, one summary line (full log on failure)
#   campaign  persistent work dir build/fuzz/campaign/<h>, live progress,
#             numbers appended to fuzz/campaigns.log
#   merge     -merge=1 of fuzz/corpus/<h> + campaign finds into fuzz/corpus/<h>
# Seeds: fuzz/corpus/<h> and fuzz/regress/<h> (regression inputs, never merged
# away). Crash/oracle reproducers land in OUTDIR/artifacts/<h>-*.
set -euo pipefail
mode=$1 h=$2 secs=$3 out=$4
shift 4
bin=$out/lf/bin/fuzz_$h
dict=fuzz/dict/$h.dict
seeds=()
for d in fuzz/corpus/$h fuzz/regress/$h; do [ -d "$d" ] && seeds+=("$d"); done
mkdir -p "$out/artifacts" "$out/logs"
common=(-timeout=10 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1
	-artifact_prefix="$out/artifacts/$h-")
[ -f "$dict" ] && common+=(-dict="$dict")

# stat::number_of_executed_units etc. from libFuzzer's final stats
stat() { sed -n "s/^stat::$1: *//p" "$2" | tail -1; }
# "cov: N ft: M corp: K/..." from the last status line
lastcov() { grep -E '^#[0-9]+' "$1" | grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*' | tail -1; }

case $mode in
smoke)
	work=$out/smoke/$h
	log=$out/logs/smoke-$h.log
	rm -rf "$work"
	mkdir -p "$work"
	if ! "$bin" "${common[@]}" -max_total_time="$secs" "$work" "${seeds[@]}" >"$log" 2>&1; then
		tail -60 "$log"
		echo "fuzz-smoke $h: FAILED (log $log; reproducer in $out/artifacts/)"
		exit 1
	fi
	echo "fuzz-smoke $h: $(stat number_of_executed_units "$log") execs in ${secs}s," \
		"$(stat average_exec_per_sec "$log") exec/s, $(lastcov "$log")"
	;;
campaign)
	work=$out/campaign/$h
	log=$out/logs/campaign-$h-$(date -u +%Y%m%dT%H%M%S).log
	mkdir -p "$work"
	echo "== fuzz campaign $h: ${secs}s, log $log"
	set +e
	"$bin" "${common[@]}" -max_total_time="$secs" "$@" "$work" "${seeds[@]}" 2>&1 | tee "$log" |
		grep --line-buffered -E '^#[0-9]+.*(pulse|NEW)|^#[0-9]+:|ERROR|ORACLE|SUMMARY|^stat::'
	st=("${PIPESTATUS[@]}")
	set -e
	rc=${st[0]}
	execs=$(stat number_of_executed_units "$log")
	eps=$(stat average_exec_per_sec "$log")
	cov=$(lastcov "$log")
	# -fork=N (e.g. with -ignore_crashes=1 past an open finding) prints
	# "#<execs>: cov: C ft: F corp: K exec/s E ..." lines instead.
	if [ -z "$execs" ]; then
		fl=$(grep -E '^#[0-9]+: cov:' "$log" | tail -1)
		execs=$(sed -n 's/^#\([0-9]*\):.*/\1/p' <<<"$fl")
		eps=$(grep -o 'exec/s:\? [0-9]*' <<<"$fl" | grep -o '[0-9]*$')
		cov=$(grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*' <<<"$fl")
		crashes=$(grep -o 'oom/timeout/crash: [0-9/]*' <<<"$fl")
		cov="$cov fork ${crashes:-}"
	fi
	printf '%s\t%s\t%ss\texecs=%s\texec/s=%s\t%s\tcampaign_corpus=%s\trc=%s\n' \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$h" "$secs" "${execs:-0}" "${eps:-0}" "$cov" \
		"$(ls "$work" | wc -l)" "$rc" >>fuzz/campaigns.log
	tail -1 fuzz/campaigns.log
	exit "$rc"
	;;
merge)
	tmp=$out/merge/$h
	rm -rf "$tmp"
	mkdir -p "$tmp" "fuzz/corpus/$h"
	inputs=("fuzz/corpus/$h")
	[ -d "$out/campaign/$h" ] && inputs+=("$out/campaign/$h")
	before=$(ls "fuzz/corpus/$h" | wc -l)
	"$bin" -merge=1 "${common[@]}" "$tmp" "${inputs[@]}" >"$out/logs/merge-$h.log" 2>&1 ||
		{ tail -30 "$out/logs/merge-$h.log"; exit 1; }
	# libFuzzer names files by SHA-1; re-check and rename anything else.
	for f in "$tmp"/*; do
		[ -e "$f" ] || continue
		s=$(sha1sum "$f" | cut -d' ' -f1)
		[ "$(basename "$f")" = "$s" ] || mv "$f" "$tmp/$s"
	done
	find "fuzz/corpus/$h" -maxdepth 1 -type f -delete
	cp "$tmp"/* "fuzz/corpus/$h/" 2>/dev/null || true
	echo "fuzz-merge $h: $before in tree + $(ls "$out/campaign/$h" 2>/dev/null | wc -l) campaign -> $(ls "fuzz/corpus/$h" | wc -l) files"
	;;
*)
	echo "unknown mode $mode" >&2
	exit 2
	;;
esac
