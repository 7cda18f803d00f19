# Shared helpers for the shell test tiers: TAP output, counted cases.
# Source it; call tap_ok / tap_is / tap_skip, then tap_done at the end.
# POSIX sh: the VM tier's busybox sh sources it too (tests/vm/cases.sh).
#
# Counting is honest: a skipped case is an "ok N # SKIP reason" line (the TAP
# driver counts it as SKIP), a whole script skipped is "1..0 # SKIP reason",
# and nothing here ever prints "# TODO": a "#" in a description is escaped, so
# text quoted into one (a daemon's reason, a file's contents) cannot turn a
# failure into an expected one. A description that starts with "# SKIP" is a
# skip (the old spelling of tap_skip).
tap_n=0
tap_failed=0
tap_skipped=0
tap_planned=    # set once a plan line is printed (tap_done, tap_skip_all)

# tap_line_ OK-OR-NOT DESCRIPTION: one numbered line, the description made safe.
tap_line_() {
        tap_n=$((tap_n + 1))
        case $2 in
        "# SKIP"*) [ "$1" = ok ] && tap_skipped=$((tap_skipped + 1)); echo "$1 $tap_n $2"; return ;;
        *"#"*) set -- "$1" "$(printf '%s' "$2" | sed 's/\\*#/\\#/g')" ;;
        esac
        echo "$1 $tap_n - $2"
}
tap_ok() { # tap_ok CONDITION-EXIT-STATUS DESCRIPTION
        if [ "$1" -eq 0 ]; then tap_line_ ok "$2"; else tap_line_ "not ok" "$2"; tap_failed=$((tap_failed + 1)); fi
        [ "$1" -eq 0 ]
}
tap_is() { # tap_is GOT WANT DESCRIPTION
        if [ "$1" = "$2" ]; then tap_line_ ok "$3"; else
                tap_line_ "not ok" "$3"; echo "#   got '$1', want '$2'"; tap_failed=$((tap_failed + 1)); fi
        [ "$1" = "$2" ]
}
# tap_skip REASON: one case that could not run here, counted as skipped.
tap_skip() { tap_line_ ok "# SKIP $*"; }
tap_skip_all() { tap_planned=1; echo "1..0 # SKIP $*"; exit 0; }
tap_done() { tap_planned=1; echo "1..$tap_n"; [ "$tap_failed" -eq 0 ]; }

# real_kernel_capable: this machine can run the real-kernel tiers: root, a
# writable 2048kB pool, and Linux 6.11 or later (the nr_memmap counters).
real_kernel_capable() {
        [ "$(id -u)" = 0 ] && [ -w /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages ] || return 1
        # "6.18.44-foo": major and minor, digits only.
        set -- "$(uname -r)"
        set -- "${1%%.*}" "$(printf '%s' "${1#*.}" | sed 's/[^0-9].*//')"
        [ -n "$1" ] && [ -n "$2" ] || return 1
        [ "$1" -gt 6 ] || { [ "$1" -eq 6 ] && [ "$2" -ge 11 ]; }
}
# ci_must_run: CI=true on a machine that can run the real-kernel tiers: a
# reason not to run one there is a failure, not a skip.
ci_must_run() { [ "${CI:-}" = true ] && real_kernel_capable; }

# tap_skip_all_unless_ci REASON: for the real-kernel tiers' skip lines. Skips
# the script, except under CI=true on a machine that can run it (root,
# writable pools, 6.11+): there it bails out and fails.
tap_skip_all_unless_ci() {
        if ci_must_run; then
                tap_planned=1
                echo "Bail out! CI=true on a machine that can run the real-kernel tests (root, writable pools, Linux $(uname -r)), yet: $*"
                exit 1
        fi
        tap_skip_all "$@"
}
# tap_skip_unless_ci REASON: the same for one case: a counted skip, or under
# CI=true on a capable machine a failed case.
tap_skip_unless_ci() {
        if ci_must_run; then
                tap_ok 1 "CI=true on a machine that can run it, yet skipped: $*"
                return 1
        fi
        tap_skip "$@"
}
