#!/bin/bash
# End to end: the real hugevmd serves /metrics on 127.0.0.1, a real Prometheus
# server (loopback, 1 s scrapes, temp storage) scrapes it, and its query API
# returns hugevm_saved_bytes with the value hugevmctl reports.
. "$top_srcdir/tests/systemd/daemon-env.sh"
command -v prometheus >/dev/null || tap_skip_all "prometheus not installed (Debian package prometheus)"
[ -x "$HUGEVMCTL" ] || tap_skip_all "hugevmctl is not built yet ($HUGEVMCTL)"
make_fakeroot
port=$(free_port)
write_config "127.0.0.1:$port"
sock=$tmp/hugevmd.sock

"$HUGEVMD" --root "$root" --config "$conf" --socket "$sock" >"$log" 2>&1 &
pids_to_kill=$!
poll_until 10 test -S "$sock"; tap_ok $? "hugevmd up, metrics on 127.0.0.1:$port"
"$HUGEVMCTL" --socket "$sock" wait --timeout 10 >/dev/null; tap_ok $? "pools converged"

# The daemon turned HVO on before growing the pool: the fake kernel freed 7
# memmap pages per 2 MiB page (KERNEL.md) and its vmstat counters show it.
memmap=$(awk '$1 == "nr_memmap_pages" { print $2 }' "$root/proc/vmstat")
tap_is "$memmap" $((8192 - 192 - 64 * 7)) "the kernel's nr_memmap_pages dropped by 64 x 7"
# What hugevmctl reports: saved_bytes of the 2048kB pool.
saved_2m() {
        "$HUGEVMCTL" --socket "$sock" --json status | python3 -c '
import json, sys
for p in json.load(sys.stdin)["pools"]:
    if p["size"] == "2048kB":
        print(p["saved_bytes"])'
}
want=
saved_seen() { want=$(saved_2m); [ "$want" = $((64 * 7 * 4096)) ]; }
poll_until 10 saved_seen; tap_ok $? "hugevmctl reports ${want:-no} saved bytes for 2048kB (64 x 28 KiB)"

scraped=$(python3 - "$port" <<'PY'
import sys, urllib.request
with urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5) as r:
    print(r.headers.get("Content-Type"))
    sys.stdout.write(r.read().decode())
PY
)
tap_is "$(printf '%s\n' "$scraped" | head -1)" "text/plain; version=0.0.4; charset=utf-8" "endpoint content type"
echo "# scraped sample:"
printf '%s\n' "$scraped" | grep -E '^hugevm_(saved_bytes|pool_pages|hvo_enabled|converged|optimized_pages)[{ ]' | sed 's/^/#   /'
if command -v promtool >/dev/null; then
        lint=$(printf '%s\n' "$scraped" | tail -n +2 | promtool check metrics 2>&1)
        rc=$?
        [ -n "$lint" ] && printf '%s\n' "$lint" | sed 's/^/#   promtool: /'
        [ $rc -eq 0 ] && [ -z "$lint" ]; tap_ok $? "promtool check metrics passes on the live endpoint"
fi

pport=$(free_port)
cat >"$tmp/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: hugevmd
    static_configs:
      - targets: ['127.0.0.1:$port']
YML
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
        --web.listen-address="127.0.0.1:$pport" >"$tmp/prometheus.log" 2>&1 &
pids_to_kill="$pids_to_kill $!"

# query EXPR: the value of the first series Prometheus returns, or nothing.
query() {
        python3 - "$pport" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
url = "http://127.0.0.1:%s/api/v1/query?query=%s" % (sys.argv[1], urllib.parse.quote(sys.argv[2]))
try:
    with urllib.request.urlopen(url, timeout=2) as r:
        res = json.load(r)["data"]["result"]
except Exception:
    sys.exit(1)
if not res:
    sys.exit(1)
print(res[0]["value"][1])
PY
}
got=
have_series() { got=$(query 'hugevm_saved_bytes{size="2048kB"}'); }
poll_until 60 have_series; tap_ok $? "Prometheus scraped hugevm_saved_bytes"
tap_is "$got" "$want" "Prometheus has the saved bytes hugevmctl reports ($want)"
tap_is "$(query 'up{job="hugevmd"}')" 1 "scrape target up"
tap_is "$(query 'hugevm_pool_pages{size="2048kB"}')" 64 "pool size as scraped"
tap_is "$(query 'hugevm_hvo_enabled')" 1 "HVO on as scraped"
[ "$tap_failed" -eq 0 ] || { show_log; tail -5 "$tmp/prometheus.log" | sed 's/^/# prometheus: /'; }
tap_done
