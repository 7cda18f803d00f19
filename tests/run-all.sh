#!/bin/bash
# The one test command (README, .ci/run): installs the Debian build and test
# dependencies that are missing, bootstraps, configures with -Werror, builds,
# runs every tier (unit, daemon, integration, real kernel, systemd), checks the
# tarball (distcheck), runs the suite again under ASan+UBSan and the unit and
# integration tiers under valgrind, fuzzes, boots the qemu tier (its cases,
# the boot-plan boots, the fragmentation benchmark's short run), builds, lints,
# installs and purges the Debian packages, and boots the systemd guest.
#
#   tests/run-all.sh                  everything
#   SKIP_VM=1 tests/run-all.sh        without the qemu and guest tiers (they download a kernel, a root fs)
#   FUZZ_SECONDS=10 tests/run-all.sh  shorter fuzzing (default 60 s per fuzzer)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=${HUGEVM_BUILD_ROOT:-$src/build-ci}
start=$SECONDS

# ---- Counting ---------------------------------------------------------------
# Every case of every step is counted: passed, failed, skipped. A skip is a TAP
# "# SKIP" (a case, or a whole script's "1..0 # SKIP"); an expected failure
# (XFAIL, "not ok ... # TODO") is a failure and shown as such: nothing in this
# suite may mark a failure as expected. A step that stops before it reports
# (a build error, a crash) is one failed case. The summary, one line per step
# and then "N passed, N failed, N skipped", is the last output, on every exit.
summary=()
passed=0 failed=0 skipped=0
step=          # the step running now ("" between steps)

finish() {
        local rc=$?
        trap - EXIT
        set +e
        if [ -n "$step" ]; then
                summary+=("$step: stopped (exit status $rc), counted as 1 failed")
                failed=$((failed + 1))
        elif [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
                summary+=("run-all.sh: exit status $rc with no failed case, counted as 1 failed")
                failed=1
        fi
        echo "== summary ($((SECONDS - start)) s)"
        printf '%s\n' "${summary[@]}"
        # Case counts, not script counts: the TAP driver counts every case.
        echo "$passed passed, $failed failed, $skipped skipped"
        [ "$failed" = 0 ] && [ "$rc" = 0 ] && exit 0
        exit 1
}
trap finish EXIT
trap 'exit 130' INT TERM HUP

step="install-deps"
"$src/tools/install-deps.sh"

echo "== bootstrap"
step="bootstrap"
"$src/autogen.sh"
step=

# count FILE: add a suite's automake counts to the totals: PASS; FAIL, ERROR,
# XPASS and XFAIL as failed; SKIP.
count() {
        local p f s
        p=$(awk '/^# PASS:/ {print $3}' "$1"); f=$(awk '/^# (FAIL|ERROR|XPASS|XFAIL):/ {n += $3} END {print n+0}' "$1")
        s=$(awk '/^# SKIP:/ {print $3}' "$1")
        passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
        [ "$f" = 0 ]
}
# run_suite NAME BUILDDIR CONFIGURE-ARGS...: configure, build, make check; record counts.
run_suite() {
        local name=$1 dir=$2; shift 2
        step=$name
        echo "== $name: configure $*"
        rm -rf "$dir"; mkdir -p "$dir"
        (cd "$dir" && "$src/configure" -q --enable-werror "$@")
        echo "== $name: build"
        make -C "$dir" -j"$(nproc)" -s
        echo "== $name: check"
        local rc=0
        make -C "$dir" -s check || rc=$?
        # Each tier's log, so a failure is readable in CI output.
        find "$dir/tests" -name '*.log' ! -name 'test-suite.log' -newer "$dir/config.status" \
                -exec grep -l '^not ok\|^ERROR\|^Bail out' {} + 2>/dev/null | while read -r f; do
                echo "---- $f"; cat "$f"; done || true   # grep -l finding nothing is no error
        [ -f "$dir/tests/test-suite.log" ] || { echo "== $name: no tests/test-suite.log (make check exit $rc)"; return 1; }
        local counts
        counts=$(awk '/^# (TOTAL|PASS|SKIP|XFAIL|FAIL|XPASS|ERROR):/ {printf "%s%s %s", sep, $2, $3; sep=" "}' "$dir/tests/test-suite.log")
        summary+=("$name: $counts")
        local bad=0
        count "$dir/tests/test-suite.log" || bad=1
        step=
        if [ "$rc" != 0 ] && [ "$bad" = 0 ]; then
                summary+=("$name: make check exited $rc with no failed case, counted as 1 failed")
                failed=$((failed + 1))
        fi
        if [ "$rc" != 0 ] || [ "$bad" != 0 ]; then
                echo "== $name: FAILED (make check exit $rc)"; cat "$dir/tests/test-suite.log"; exit 1
        fi
}

# The full-size stress runs (64 clients x 1000 requests, 200 kill -9s) once, in the plain build.
STRESS_FULL=1 run_suite "gcc -Werror" "$out/plain"
# The tarball builds, installs and uninstalls on its own; its tests already ran
# above from the same sources, so TESTS= keeps distcheck from running them twice.
echo "== distcheck"
step=distcheck
make -C "$out/plain" -s distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror TESTS=
summary+=("distcheck: done (no cases)")
step=
run_suite "ASan+UBSan" "$out/asan" \
        CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"

# tap_count LOG: "PASS FAIL SKIP XFAIL PROBLEMS" for a TAP stream, read as
# automake's TAP driver reads it: a directive is "# SKIP" or "# TODO" (any
# case, not after a backslash); "not ok" is a failure whatever its directive,
# "ok ... # TODO" (XPASS) too; "1..0 # SKIP" is one skipped case; a "Bail
# out!", a missing plan or a plan that does not match the cases is one
# failure more (PROBLEMS says which).
tap_count() {
        awk '
        function directive(line) {
                if (match(line, /[^\\]#[ \t]*[Ss][Kk][Ii][Pp]([^A-Za-z0-9_]|$)/)) return "SKIP"
                if (match(line, /[^\\]#[ \t]*[Tt][Oo][Dd][Oo]([^A-Za-z0-9_]|$)/)) return "TODO"
                return ""
        }
        /^ok([ \t]|$)/ { n++; d = directive($0)
                if (d == "SKIP") s++; else if (d == "TODO") { f++; xpass++ } else p++; next }
        /^not ok([ \t]|$)/ { n++; f++; if (directive($0) == "TODO") xfail++; next }
        /^1\.\.[0-9]+/ { plans++; split($0, a, /[^0-9]+/); planned = a[2] + 0
                if (planned == 0 && directive(" " $0) == "SKIP") skip_all = 1; next }
        /^Bail out!/ { bail++ }
        END {
                problems = ""
                if (bail) { f += bail; problems = problems " bail-out" }
                if (skip_all && n == 0) s++
                else if (plans != 1) { f++; problems = problems (plans ? " " plans "-plans" : " no-plan") }
                else if (planned != n) { f++; problems = problems " plan-" planned "-for-" n "-cases" }
                if (xpass) problems = problems " " xpass "-XPASS"
                printf "%d %d %d %d %s\n", p, f, s, xfail, (problems == "" ? "-" : substr(problems, 2))
        }' "$1"
}

# run_tap NAME COMMAND...: a step that prints TAP itself; its cases join the totals.
# Exit status 77 with "1..0 # SKIP" is a skipped step (automake's convention).
run_tap() {
        local name=$1; shift
        step=$name
        echo "== $name"
        local log="$out/$name.log" rc=0
        mkdir -p "$out"
        "$@" 2>&1 | tee "$log" || rc=$?
        local p f s xf problems
        read -r p f s xf problems < <(tap_count "$log")
        if [ "$rc" != 0 ] && [ "$f" = 0 ] && ! { [ "$rc" = 77 ] && [ "$p" = 0 ] && [ "$s" -gt 0 ]; }; then
                f=1; problems="exit-status-$rc"
        fi
        summary+=("$name: PASS $p FAIL $f SKIP $s$([ "$xf" = 0 ] || echo " (XFAIL $xf, counted as failed)")$(
                [ "$problems" = - ] || echo " ($problems)")")
        passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
        step=
        [ "$f" = 0 ] || { echo "== $name: FAILED (exit $rc)"; exit 1; }
}

run_tap valgrind "$src/tests/stress/valgrind.sh" "$out/plain"
run_tap fuzz "$src/tests/fuzz/run.sh" "$out/fuzz" "${FUZZ_SECONDS:-60}"
if [ "${SKIP_VM:-0}" != 1 ]; then
        run_tap qemu "$src/tests/vm/run.sh" "$out/plain"
        run_tap qemu-boot-plan "$src/tests/vm/run.sh" "$out/plain" boot-plan
        # The fragmentation benchmark's short run (make bench runs it full).
        run_tap qemu-fragmentation "$src/tests/vm/run.sh" "$out/plain" fragmentation
else
        summary+=("qemu, qemu-boot-plan, qemu-fragmentation: not run (SKIP_VM=1), counted as 3 skipped")
        skipped=$((skipped + 3))
fi
run_tap deb "$src/tests/deb/build.sh"
# The booted systemd guest (Debian 12, systemd as PID 1, the .debs installed):
# after deb, whose build dependencies it reuses; its image is cached.
if [ "${SKIP_VM:-0}" != 1 ]; then
        run_tap guest "$src/tests/guest/run.sh"
else
        summary+=("guest: not run (SKIP_VM=1), counted as 1 skipped")
        skipped=$((skipped + 1))
fi
# finish (the EXIT trap) prints the summary and its last line.
