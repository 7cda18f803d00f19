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
# --quiet plus only the failing leak kinds shown: a clean run leaves an empty log.
VG="valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=no --log-file=$vgdir/vg.%p.log"
LT="$builddir/libtool --mode=execute"

n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }

echo "# building the check programs"
make -C "$builddir" -s -j"$(nproc)" >/dev/null && make -C "$builddir/tests" -s -j"$(nproc)" check TESTS= >/dev/null
ok $? "build (make check TESTS=)"

# 1. The unit test programs (libvmemmap on fake trees, the daemon's modules).
export top_srcdir=$src top_builddir=$builddir
for t in "$builddir"/tests/unit/test-* "$builddir"/tests/daemon/test-*; do
        [ -x "$t" ] && [ -f "$t" ] || continue
        case $t in *.o|*.log|*.trs) continue ;; esac
        name=${t#"$builddir/tests/"}
        $LT $VG "$t" >"$vgdir/out" 2>&1
        rc=$?
        nok=$(grep -c '^not ok' "$vgdir/out")
        ok $(( rc == 0 && nok == 0 ? 0 : 1 )) "$name under valgrind (exit $rc, $nok failing cases)"
        [ $rc -eq 0 ] || tail -5 "$vgdir/out" | sed 's/^/#   /'
done

# 2. The integration tier with the daemon and the client under valgrind.
integ="integration/ctl.sh integration/protocol.sh integration/auth.sh integration/config.sh integration/restart.sh"
HUGEVM_WRAPPER="$LT $VG" make -C "$builddir/tests" -s check TESTS="$integ" >"$vgdir/integ.out" 2>&1
rc=$?
grep -E '^# (TOTAL|PASS|FAIL|ERROR|SKIP|XFAIL|XPASS):' "$vgdir/integ.out" | sed 's/^#/#  integration:/'
ok $rc "integration tier passes with hugevmd and hugevmctl under valgrind"
[ $rc -eq 0 ] && [ -d "$builddir/tests/integration" ] || for f in "$builddir"/tests/integration/*.log; do
        grep -H '^not ok' "$f" | head -5 | sed 's/^/#   /'
done

# 3. Every valgrind report: no errors, no definite/indirect leaks.
logs=$(ls "$vgdir"/vg.*.log 2>/dev/null | wc -l)
bad=0
for f in "$vgdir"/vg.*.log; do
        [ -s "$f" ] || continue
        # Anything memcheck printed under --quiet is an error or a definite/indirect leak.
        if grep -q '^==[0-9]*== [^ ]' "$f"; then
                bad=$((bad + 1))
                echo "# ---- $(basename "$f") ----"
                sed 's/^/#   /' "$f" | head -60
        fi
done
ok $bad "$logs valgrind reports, $bad with errors or definite/indirect leaks"
echo "# valgrind run took $((SECONDS - start)) s"
echo "1..$n"
[ $failed -eq 0 ]
