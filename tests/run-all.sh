#!/bin/bash
# The one test command (README, .ci/run): installs the Debian build and test
# dependencies that are missing, bootstraps, configures with -Werror, builds,
# runs every tier (unit, daemon, integration, real kernel, systemd), checks the
# tarball (distcheck), runs the suite again under ASan+UBSan and the unit and
# integration tiers under valgrind, fuzzes, boots the qemu tier and builds,
# lints, installs and purges the Debian packages.
#
#   tests/run-all.sh                  everything
#   SKIP_VM=1 tests/run-all.sh        without the qemu tier (it downloads a kernel)
#   FUZZ_SECONDS=10 tests/run-all.sh  shorter fuzzing (default 60 s per fuzzer)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=${HUGEVM_BUILD_ROOT:-$src/build-ci}
start=$SECONDS

"$src/tools/install-deps.sh"

echo "== bootstrap"
"$src/autogen.sh"

summary=()
passed=0 failed=0 skipped=0
# count FILE: add a suite's automake counts (PASS, FAIL+ERROR, SKIP) to the totals.
count() {
        local p f s
        p=$(awk '/^# PASS:/ {print $3}' "$1"); f=$(awk '/^# (FAIL|ERROR|XPASS):/ {n += $3} END {print n+0}' "$1")
        s=$(awk '/^# SKIP:/ {print $3}' "$1")
        passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}
# run_tier NAME BUILDDIR CONFIGURE-ARGS...: configure, build, make check; record counts.
run_suite() {
        local name=$1 dir=$2; shift 2
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
        local counts
        counts=$(awk '/^# (TOTAL|PASS|SKIP|XFAIL|FAIL|XPASS|ERROR):/ {printf "%s%s %s", sep, $2, $3; sep=" "}' "$dir/tests/test-suite.log")
        summary+=("$name: $counts")
        count "$dir/tests/test-suite.log"
        [ "$rc" = 0 ] || { echo "== $name: FAILED"; cat "$dir/tests/test-suite.log"; exit 1; }
}

# The full-size stress runs (64 clients x 1000 requests, 200 kill -9s) once, in the plain build.
STRESS_FULL=1 run_suite "gcc -Werror" "$out/plain"
# The tarball builds, installs and uninstalls on its own; its tests already ran
# above from the same sources, so TESTS= keeps distcheck from running them twice.
echo "== distcheck"
make -C "$out/plain" -s distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror TESTS=
run_suite "ASan+UBSan" "$out/asan" \
        CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"

# run_tap NAME COMMAND...: a step that prints TAP itself; its cases join the totals.
run_tap() {
        local name=$1; shift
        echo "== $name"
        local log="$out/$name.log" rc=0
        "$@" 2>&1 | tee "$log" || rc=$?
        local okc bad
        okc=$(grep -c '^ok ' "$log" || true)
        bad=$(grep '^not ok ' "$log" | grep -vc '# TODO' || true)
        summary+=("$name: $okc ok, $bad not ok")
        passed=$((passed + okc)); failed=$((failed + bad))
        [ "$rc" = 0 ] || { echo "== $name: FAILED (exit $rc)"; exit 1; }
}

run_tap valgrind "$src/tests/stress/valgrind.sh" "$out/plain"
run_tap fuzz "$src/tests/fuzz/run.sh" "$out/fuzz" "${FUZZ_SECONDS:-60}"
if [ "${SKIP_VM:-0}" != 1 ]; then
        run_tap qemu "$src/tests/vm/run.sh" "$out/plain"
fi
run_tap deb "$src/tests/deb/build.sh"

echo "== summary ($((SECONDS - start)) s)"
printf '%s\n' "${summary[@]}"
# The TAP driver counts every case, so these are case counts, not script counts.
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
