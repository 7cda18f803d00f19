#!/bin/bash
# valgrind memcheck over the unit test programs and the integration tier (the
# real hugevmd and hugevmctl under valgrind via HUGEVM_WRAPPER in
# tests/integration/common.sh). Fails on any memcheck error or any definite or
# indirect leak. Its own CI step, not part of make check:
#
#   tests/stress/valgrind.sh BUILDDIR
#
# BUILDDIR: a configured build tree (plain -O2 -g; not an ASan build).
set -u
builddir=$(cd "${1:?usage: valgrind.sh BUILDDIR}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
command -v valgrind >/dev/null || { echo "1..0 # SKIP valgrind is not installed"; exit 0; }
if grep -q -- '-fsanitize' "$builddir/config.status" 2>/dev/null; then
        echo "1..0 # SKIP $builddir is a sanitizer build; valgrind needs a plain one"; exit 0
fi
start=$SECONDS
vgdir=$(mktemp -d /tmp/hugevm-valgrind.XXXXXX)
trap 'rm -rf "$vgdir"' EXIT
LT="$builddir/libtool --mode=execute"
# vg LABEL: the valgrind command line for one program or script, its reports
# in $vgdir/LABEL. --quiet plus only the failing leak kinds shown: a clean run
# leaves empty reports.
vg() {
        mkdir -p "$vgdir/$1"
        echo "valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=no --log-file=$vgdir/$1/vg.%p.log"
}

# Every case is counted: each case a unit program or an integration script
# reports under valgrind is one case here (its description prefixed with its
# name, its SKIP kept), then one case that it ran to its end (its plan matches
# its cases, exit status 0) and one that memcheck found nothing in it.
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }

# relay NAME OUTPUT-FILE EXIT-STATUS: NAME's TAP as our cases.
relay() {
        local name=$1 out=$2 rc=$3 line cases=0 plan='' bail=''
        relay_skipped=0
        while IFS= read -r line; do
                case $line in
                "ok"|"ok "*|"not ok"|"not ok "*)
                        cases=$((cases + 1)); n=$((n + 1))
                        local word=ok rest
                        case $line in "not ok"*) word="not ok"; failed=$((failed + 1)) ;; esac
                        # "ok 3 - text # SKIP why" -> "ok N - NAME: text # SKIP why"
                        rest=$(printf '%s' "${line#"$word"}" | sed -E 's/^ *[0-9]* *(- *)?//')
                        case $rest in
                        "#"*) echo "$word $n - $name $rest" ;;
                        *) echo "$word $n - $name: $rest" ;;
                        esac ;;
                "1..0"*"#"*) plan=0; n=$((n + 1)); echo "ok $n - $name # SKIP${line#*SKIP}" ;;
                1..*) plan=${line#1..}; plan=${plan%%[!0-9]*} ;;
                "Bail out!"*) bail=$line ;;
                *) printf '#   %s: %s\n' "$name" "$line" ;;
                esac
        done <"$out"
        [ "$plan" = 0 ] && [ "$cases" = 0 ] && [ "$rc" -eq 0 ] && { relay_skipped=1; return; }
        [ -n "$plan" ] && [ "$plan" = "$cases" ] && [ "$rc" -eq 0 ] && [ -z "$bail" ]
        ok $? "$name ran to its end under valgrind (exit $rc, plan ${plan:-missing} for $cases cases${bail:+, $bail})"
}

# memcheck NAME: no report under $vgdir/NAME has an error or a definite/indirect
# leak, and there is one (unless NAME skipped itself: relay set relay_skipped).
memcheck() {
        local f logs=0 bad=0
        for f in "$vgdir/$1"/vg.*.log; do
                [ -e "$f" ] || continue
                logs=$((logs + 1))
                # Anything memcheck printed under --quiet is an error or a definite/indirect leak.
                if grep -q '^==[0-9]*== [^ ]' "$f"; then
                        bad=$((bad + 1))
                        echo "# ---- $1: $(basename "$f") ----"
                        sed 's/^/#   /' "$f" | head -60
                fi
        done
        if [ $logs = 0 ] && [ "$relay_skipped" = 1 ]; then
                n=$((n + 1)); echo "ok $n - $1: memcheck # SKIP nothing ran under valgrind (the script skipped)"
                return
        fi
        ok $(( logs > 0 && bad == 0 ? 0 : 1 )) "$1: memcheck clean ($logs valgrind reports, $bad with errors or definite/indirect leaks)"
}

echo "# building the check programs"
make -C "$builddir" -s -j"$(nproc)" >/dev/null && make -C "$builddir/tests" -s -j"$(nproc)" check TESTS= >/dev/null
ok $? "build (make check TESTS=)"

# 1. The unit test programs (libvmemmap on fake trees, the daemon's modules).
export top_srcdir=$src top_builddir=$builddir
for t in "$builddir"/tests/unit/test-* "$builddir"/tests/daemon/test-*; do
        [ -x "$t" ] && [ -f "$t" ] || continue
        case $t in *.o|*.log|*.trs) continue ;; esac
        name=${t#"$builddir/tests/"}
        label=$(printf '%s' "$name" | tr '/' '_')
        # shellcheck disable=SC2046 # the command line splits into words
        (cd "$builddir/tests" && $LT $(vg "$label") "$t") >"$vgdir/out" 2>&1
        rc=$?
        relay "$name" "$vgdir/out" $rc
        memcheck "$label"
done

# 2. Integration scripts with the daemon and the client under valgrind
# (HUGEVM_WRAPPER in tests/integration/common.sh), each run as make check would.
for s in integration/ctl.sh integration/protocol.sh integration/auth.sh integration/config.sh \
         integration/restart.sh integration/coverage.sh; do
        [ -f "$src/tests/$s" ] || continue
        label=$(printf '%s' "$s" | tr '/' '_')
        (cd "$builddir/tests" && HUGEVM_WRAPPER="$LT $(vg "$label")" bash "$src/tests/$s") >"$vgdir/out" 2>&1
        rc=$?
        relay "$s" "$vgdir/out" $rc
        memcheck "$label"
done

echo "# valgrind run took $((SECONDS - start)) s"
echo "1..$n"
[ $failed -eq 0 ]
