# Shared helpers for the shell test tiers: TAP output, counted cases.
# Source it; call tap_ok / tap_is, then tap_done at the end.
tap_n=0
tap_failed=0
tap_ok() { # tap_ok CONDITION-EXIT-STATUS DESCRIPTION
        tap_n=$((tap_n + 1))
        if [ "$1" -eq 0 ]; then echo "ok $tap_n - $2"; else echo "not ok $tap_n - $2"; tap_failed=$((tap_failed + 1)); fi
}
tap_is() { # tap_is GOT WANT DESCRIPTION
        tap_n=$((tap_n + 1))
        if [ "$1" = "$2" ]; then echo "ok $tap_n - $3"; else
                echo "not ok $tap_n - $3"; echo "#   got '$1', want '$2'"; tap_failed=$((tap_failed + 1)); fi
}
tap_skip_all() { echo "1..0 # SKIP $*"; exit 0; }
tap_done() { echo "1..$tap_n"; [ "$tap_failed" -eq 0 ]; }
