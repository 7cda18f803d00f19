#!/bin/bash
# Build and run every libFuzzer harness of tests/fuzz for a bounded time.
#
#   tests/fuzz/run.sh BUILD_TMPDIR [SECONDS_EACH]      (default 60 s each)
#   tests/fuzz/run.sh BUILD_TMPDIR 0    replay the seed corpora and the
#                                       regression inputs only (no fuzzing)
#
# The project is configured out of tree in BUILD_TMPDIR/build with clang and
# -fsanitize=fuzzer-no-link,address,undefined, and only its libraries are built
# (libvmemmap, the protocol, hugevmd's internal library libhugevmd.la: all of
# the daemon but main.c). Each harness is linked against those static archives
# with -fsanitize=fuzzer,address,undefined: the code fuzzed is the code built,
# nothing of the daemon is stubbed or listed here. Each fuzzer first replays the
# regression inputs tests/fuzz/crashes/<name>-*.bin, then fuzzes a scratch copy
# of its seed corpus tests/fuzz/corpus/<name>/ with its dictionary (for the
# request fuzzers <name>.dict plus proto/proto.h's names, see proto-dict.c). Output: one
# line "<name>: N execs in S s, K crashes (R execs/s)" and one TAP line per fuzzer, then
# the plan. Exit status is non-zero when any fuzzer crashed, leaked, timed out
# or broke a property; the reproducer is kept under BUILD_TMPDIR and its hex
# printed.
#
# The daemon harnesses (fuzz-rpc, fuzz-server) run the daemon on the fake
# kernel (tests/fakekernel, FUSE): it is built here without sanitizers (it is
# the fixture, not the code fuzzed) as BUILD_TMPDIR/fakekernel, and each
# fuzzer process mounts its own through tests/fakekernel/fk.c ($FAKEKERNEL).
# It needs libfuse3, /dev/fuse, fusermount3 and root; without them those
# fuzzers are TAP skips, or failures under CI=true on a root machine with
# /dev/fuse. A reproducer replays alone with FAKEKERNEL=BUILD_TMPDIR/fakekernel.
#
# Environment:
#   FUZZ_ONLY="a b"        run only these fuzzers (the others are TAP skips)
#   FUZZ_UPDATE_CORPUS=1   afterwards, replace the committed seed corpus with
#                          the minimized (-merge=1) one (its 200 largest files)
#   CC                     clang to use (default clang)
set -uo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
here=$src/tests/fuzz
out=${1:?usage: $0 BUILD_TMPDIR [SECONDS_EACH]}
secs=${2:-60}
cc=${CC:-clang}
max_corpus=200

mkdir -p "$out" || exit 1
out=$(cd "$out" && pwd)
# Fake roots are rewritten on every execution: keep them in memory when we can.
shm=/dev/shm
[ -d "$shm" ] && [ -w "$shm" ] || shm=$out
scratch=$(mktemp -d "$shm/hugevm-fuzz.XXXXXX") || exit 1
# --one-file-system: never into a fake kernel still mounted there.
trap 'rm -rf --one-file-system "$scratch"' EXIT

if ! command -v "$cc" >/dev/null; then
        echo "1..0 # SKIP no $cc (apt-get install clang libclang-rt-14-dev)"
        exit 0
fi
# libFuzzer's runtime ships separately from clang on Debian.
if ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { (void)d; (void)n; return 0; }' |
        "$cc" -x c -fsanitize=fuzzer - -o "$out/probe" 2>/dev/null; then
        echo "1..0 # SKIP $cc cannot link -fsanitize=fuzzer (apt-get install libclang-rt-14-dev)"
        exit 0
fi

# The fuzz build: the project itself, configured out of tree with clang,
# coverage (fuzzer-no-link) and the sanitizers, of which only what the
# harnesses link is built: libvmemmap, the protocol, and hugevmd's internal
# library (daemon/libhugevmd.la: every module but main.c). Reused by the next
# run with the same BUILD_TMPDIR (make rebuilds what changed; the build is made
# afresh when its configure options change).
build=$out/build
build_cflags="-g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
configure_args=(-q --disable-shared --enable-static "CC=$cc" "CFLAGS=$build_cflags")
if [ ! -x "$src/configure" ]; then
        if ! (cd "$src" && ./autogen.sh) >"$out/autogen.log" 2>&1; then
                cat "$out/autogen.log"
                echo "Bail out! no configure, and autogen.sh failed (see $out/autogen.log)"
                exit 1
        fi
fi
stamp=$build/.fuzz-configure-args
if [ ! -f "$build/Makefile" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${configure_args[*]}" ]; then
        # From scratch: objects built with other flags would not be rebuilt.
        rm -rf "$build"
        mkdir -p "$build"
        if ! (cd "$build" && "$src/configure" "${configure_args[@]}") >"$out/configure.log" 2>&1; then
                tail -n 30 "$out/configure.log"
                echo "Bail out! configure for the fuzz build failed (see $out/configure.log)"
                exit 1
        fi
        printf '%s' "${configure_args[*]}" >"$stamp"
fi
jobs=$(nproc 2>/dev/null || echo 2)
if ! { make -j"$jobs" -C "$build/libvmemmap" && make -j"$jobs" -C "$build/proto" &&
        make -j"$jobs" -C "$build/daemon" libhugevmd.la; } >"$out/make.log" 2>&1; then
        tail -n 40 "$out/make.log"
        echo "Bail out! building the libraries failed (see $out/make.log)"
        exit 1
fi
archives=("$build/daemon/.libs/libhugevmd.a" "$build/proto/.libs/libhugevmproto.a" "$build/libvmemmap/.libs/libvmemmap.a")
for a in "${archives[@]}"; do
        [ -f "$a" ] || { echo "Bail out! $a was not built (see $out/make.log)"; exit 1; }
done
daemon_pkgs="json-c libuv inih libsystemd libmicrohttpd"
# shellcheck disable=SC2086
if ! pkg_flags=$(pkg-config --cflags --libs $daemon_pkgs); then
        echo "Bail out! pkg-config: $daemon_pkgs"
        exit 1
fi

# The harnesses: the build's config.h, the headers of every library (each of
# daemon/'s module directories), tests/ for unit/fake.h.
# shellcheck disable=SC2054 # commas in a flag, not between elements
cflags=(-g -O1 -std=gnu11 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
        -fno-sanitize-recover=all -Wall -Wextra -Wno-unused-parameter
        -I"$build" -I"$src/libvmemmap" -I"$src/proto" -I"$src/tests")
for d in "$src/daemon" "$src"/daemon/*/; do
        cflags+=(-I"${d%/}")
done
# name | sources besides tests/fuzz/<name>.c | max_len. Each links the three
# archives (the linker takes only the members it needs) and the daemon's
# libraries; those with fk.c run on the fake kernel.
fk=$src/tests/fakekernel/fk.c
fuzzers=(
        "fuzz-size||64"
        "fuzz-sysfs||4096"
        "fuzz-config||4096"
        "fuzz-state||4096"
        "fuzz-rpc|$fk|2048"
        "fuzz-server|$fk|4096"
)
# Every harness is listed: a new one is not silently left out.
for f in "$here"/fuzz-*.c; do
        name=$(basename "$f" .c)
        [[ " ${fuzzers[*]} " == *" $name|"* ]] || { echo "Bail out! $f is not in run.sh's list of fuzzers"; exit 1; }
done

# The request fuzzers' dictionaries: their own entries plus the protocol's
# names, printed from proto/proto.h so they follow its lists (proto-dict.c,
# linked with the protocol library as built above).
# shellcheck disable=SC2046
if ! "$cc" -std=gnu11 -Wall -Wextra -fsanitize=address,undefined -I"$build" -I"$src/proto" "$here/proto-dict.c" \
        "$build/proto/.libs/libhugevmproto.a" $(pkg-config --cflags --libs json-c) -o "$out/proto-dict" >"$out/proto-dict.log" 2>&1 ||
        ! "$out/proto-dict" >"$out/proto.dict" 2>>"$out/proto-dict.log"; then
        cat "$out/proto-dict.log"
        echo "Bail out! cannot generate the protocol dictionary (tests/fuzz/proto-dict.c)"
        exit 1
fi
proto_dict_fuzzers=" fuzz-rpc fuzz-server "

selected() {
        [ -z "${FUZZ_ONLY:-}" ] || [[ " $FUZZ_ONLY " == *" $1 "* ]]
}

# The fake kernel, when a selected fuzzer needs it: built from its sources
# with the fuzz build's config.h, plainly (-O2, no sanitizer, no coverage).
fk_why=
needs_fk=
for entry in "${fuzzers[@]}"; do
        IFS='|' read -r name sources max_len <<<"$entry"
        selected "$name" && [[ "$sources" == *"$fk"* ]] && needs_fk=1
done
if [ -n "$needs_fk" ]; then
        # shellcheck disable=SC2086 # $fuse_flags: several flags
        if ! fuse_flags=$(pkg-config --cflags --libs fuse3 2>/dev/null); then
                fk_why="no libfuse3 (apt-get install libfuse3-dev)"
        elif ! "$cc" -std=gnu11 -O2 -g -Wall -I"$build" -I"$src/tests/fakekernel" "$src/tests/fakekernel/fakekernel.c" \
                "$src/tests/fakekernel/model.c" $fuse_flags -pthread -o "$out/fakekernel" >"$out/fakekernel.log" 2>&1; then
                cat "$out/fakekernel.log"
                echo "Bail out! building the fake kernel failed (see $out/fakekernel.log)"
                exit 1
        elif [ ! -c /dev/fuse ]; then
                fk_why="no /dev/fuse"
        elif ! command -v fusermount3 >/dev/null 2>&1; then
                fk_why="no fusermount3 (apt-get install fuse3)"
        elif [ "$(id -u)" -ne 0 ]; then
                fk_why="the fake kernel is mounted for every uid, which needs root"
        fi
fi
export FAKEKERNEL=$out/fakekernel
# CI=true on a machine that could mount it: a reason not to is a failure.
fk_ci_must_run() { [ "${CI:-}" = true ] && [ "$(id -u)" -eq 0 ] && [ -c /dev/fuse ]; }

# Every harness is linked before any runs: all of them against the libraries
# as built above, even when the sources change while the fuzzers run.
declare -A built
for entry in "${fuzzers[@]}"; do
        IFS='|' read -r name sources max_len <<<"$entry"
        selected "$name" || continue
        [[ "$sources" == *"$fk"* ]] && [ -n "$fk_why" ] && continue
        dir=$out/$name
        rm -rf "$dir"
        mkdir -p "$dir/corpus" "$dir/min"
        # shellcheck disable=SC2086
        if "$cc" "${cflags[@]}" "$here/$name.c" $sources "${archives[@]}" $pkg_flags -lm -lpthread \
                -o "$dir/$name" >"$dir/build.log" 2>&1; then
                built[$name]=1
        else
                cat "$dir/build.log"
                echo "$name: build failed"
        fi
done

n=0 failed=0
tap=()
for entry in "${fuzzers[@]}"; do
        IFS='|' read -r name sources max_len <<<"$entry"
        if ! selected "$name"; then
                n=$((n + 1))
                tap+=("ok $n # SKIP $name: not in FUZZ_ONLY")
                continue
        fi
        n=$((n + 1))
        dir=$out/$name
        if [[ "$sources" == *"$fk"* ]] && [ -n "$fk_why" ]; then
                if fk_ci_must_run; then
                        tap+=("not ok $n - $name: CI=true on a machine that can mount the fake kernel, yet: $fk_why")
                        failed=$((failed + 1))
                else
                        tap+=("ok $n # SKIP $name: $fk_why")
                fi
                continue
        fi
        mkdir -p "$scratch/$name"
        log=$dir/fuzz.log
        if [ -z "${built[$name]:-}" ]; then
                tap+=("not ok $n - $name: build failed (see $dir/build.log)")
                failed=$((failed + 1))
                continue
        fi

        # Regression inputs first: every bug found once stays found.
        crashes=0
        regress=("$here"/crashes/"$name"-*.bin)
        if [ -e "${regress[0]}" ]; then
                if ! FUZZ_TMPDIR=$scratch/$name "$dir/$name" -artifact_prefix="$dir/regress-" "${regress[@]}" >"$dir/regress.log" 2>&1; then
                        echo "$name: a regression input fails again:"
                        tail -n 40 "$dir/regress.log"
                        crashes=$((crashes + 1))
                fi
        fi

        [ -d "$here/corpus/$name" ] && cp -r "$here/corpus/$name/." "$dir/corpus/"
        dict=()
        if [[ "$proto_dict_fuzzers" == *" $name "* ]]; then
                cat "$here/$name.dict" "$out/proto.dict" >"$dir/$name.dict"
                dict=(-dict="$dir/$name.dict")
        elif [ -f "$here/$name.dict" ]; then
                dict=(-dict="$here/$name.dict")
        fi
        limit=(-max_total_time="$secs")
        [ "$secs" = 0 ] && limit=(-runs=0)   # the corpus is run, nothing new tried
        start=$SECONDS
        FUZZ_TMPDIR=$scratch/$name "$dir/$name" "$dir/corpus" "${dict[@]}" \
                "${limit[@]}" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
                -print_final_stats=1 -artifact_prefix="$dir/" >"$log" 2>&1
        rc=$?
        took=$((SECONDS - start))
        execs=$(awk '/^stat::number_of_executed_units:/ {print $2}' "$log" | tail -n 1)
        execs=${execs:-0}
        found=("$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-* "$dir"/slow-unit-*)
        for f in "${found[@]}"; do
                [ -e "$f" ] || continue
                case $f in */slow-unit-*) continue ;; esac
                crashes=$((crashes + 1))
                echo "$name: reproducer $f ($(stat -c %s "$f") bytes), hex:"
                od -An -tx1 -v "$f" | head -n 64
        done
        if [ "$rc" != 0 ] && [ "$crashes" = 0 ]; then
                crashes=1   # died without an artifact (e.g. a broken harness)
        fi
        if [ "$crashes" != 0 ]; then
                grep -E -A 30 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|property violated' "$log" | head -n 60
        fi
        rate=$((took > 0 ? execs / took : execs))
        echo "$name: $execs execs in $took s, $crashes crashes ($rate execs/s)"

        if [ "$secs" != 0 ]; then
                # Minimize what this run learned; keep it for inspection, or as the new seeds.
                FUZZ_TMPDIR=$scratch/$name "$dir/$name" -merge=1 -max_len="$max_len" "$dir/min" "$dir/corpus" >"$dir/merge.log" 2>&1
                kept=$(find "$dir/min" -type f | wc -l)
                echo "$name: minimized corpus $kept files in $dir/min"
                if [ "${FUZZ_UPDATE_CORPUS:-0}" = 1 ] && [ "$crashes" = 0 ] && [ "$kept" -gt 0 ]; then
                        # Kept small for the repository: the largest files when over the cap.
                        rm -rf "$here/corpus/$name"
                        mkdir -p "$here/corpus/$name"
                        ls -S "$dir/min" | head -n "$max_corpus" | while read -r f; do cp "$dir/min/$f" "$here/corpus/$name/"; done
                        echo "$name: seed corpus replaced ($(ls "$here/corpus/$name" | wc -l) of $kept files)"
                fi
        fi
        rm -rf --one-file-system "${scratch:?}/$name"

        if [ "$crashes" = 0 ]; then
                tap+=("ok $n - $name: $execs execs in $took s, 0 crashes")
        else
                tap+=("not ok $n - $name: $execs execs in $took s, $crashes crashes (reproducers in $dir)")
                failed=$((failed + 1))
        fi
done

printf '%s\n' "${tap[@]}"
echo "1..$n"
[ "$failed" = 0 ]
