#!/usr/bin/env bash
# AFL++ for one harness (persistent mode, shared-memory test cases):
#   run-afl.sh HARNESS SECONDS OUTDIR [CMPLOG]   afl-fuzz for SECONDS (-V)
#   run-afl.sh HARNESS cmin OUTDIR               afl-cmin of fuzz/corpus/<h>
# Binaries: OUTDIR/afl/bin/fuzz_<h> (ASan+UBSan), OUTDIR/aflcmp/bin/fuzz_<h>
# (cmplog, used with -c when CMPLOG is non-empty). Findings stay in
# OUTDIR/afl-out/<h>/default/{crashes,hangs}; new queue entries can be
# merged into the corpus with fuzz-merge (copy them to build/fuzz/campaign/<h>).
set -euo pipefail
h=$1 secs=$2 out=$3 cmplog=${4:-}
bin=$out/afl/bin/fuzz_$h
dict=fuzz/dict/$h.dict
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
# afl-fuzz binds itself, and so the target it forks, to a free core: each
# input is a hand-off between the two processes, and on this VM one within
# a core costs far less than a wake-up across cores (header 10-15k -> 25k
# exec/s, engine 2.8-4k -> 9.4k; FUZZING.md). When every core is taken by
# other bound fuzzers afl-fuzz stops and says so: set AFL_NO_AFFINITY=1.
export AFL_NO_UI=1 AFL_FAST_CAL=1
# ASan must abort (not _exit) for AFL to see a crash; no leak checks per input.
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=0:symbolize=0:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1

if [ "$secs" = cmin ]; then
	tmp=$out/afl-cmin/$h
	rm -rf "$tmp"
	AFL_QUIET=1 afl-cmin -i "fuzz/corpus/$h" -o "$tmp" -m none -t 5000 -- "$bin" >/dev/null
	echo "afl-cmin $h: $(ls "fuzz/corpus/$h" | wc -l) -> $(ls "$tmp" | wc -l) files in $tmp"
	exit 0
fi

o=$out/afl-out/$h
mkdir -p "$o"
args=(-i fuzz/corpus/"$h" -o "$o" -m none -t 1000 -V "$secs")
[ -f "$dict" ] && args+=(-x "$dict")
[ -n "$cmplog" ] && args+=(-c "$out/aflcmp/bin/fuzz_$h")
# -i - resumes an earlier run in the same output dir
[ -d "$o/default/queue" ] && args[1]=-
echo "== afl-fuzz $h: ${secs}s${cmplog:+ (cmplog)}, output $o"
AFL_STATS_INTERVAL=10 afl-fuzz "${args[@]}" -- "$bin"
s=$o/default/fuzzer_stats
if [ -f "$s" ]; then
	get() { sed -n "s/^$1 *: *//p" "$s"; }
	crashes=$(get saved_crashes)
	printf '%s\tafl:%s\t%ss\texecs=%s\texec/s=%s\tedges=%s\tcorpus=%s\tcrashes=%s\thangs=%s\n' \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$h" "$secs" "$(get execs_done)" "$(get execs_per_sec)" \
		"$(get edges_found)" "$(get corpus_count)" "$crashes" "$(get saved_hangs)" \
		>>fuzz/campaigns.log
	tail -1 fuzz/campaigns.log
	[ "${crashes:-0}" = 0 ] || { echo "crashes: $o/default/crashes"; exit 1; }
fi
