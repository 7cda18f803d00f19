#!/bin/bash
# The shipped Prometheus rules (contrib/prometheus) and Grafana dashboard
# (contrib/grafana), issue 17:
#  - promtool check rules and promtool test rules pass, and the unit tests
#    hold a firing and a non-firing case for every alert;
#  - the dashboard is valid JSON, every panel has a title and a query, and
#    every query parses as PromQL;
#  - against the real hugevmd on the fake kernel: every metric name in every
#    rule expression and every dashboard query is one the scrape declares
#    (node_exporter's only from NODE_EXPORTER below, only where the file says
#    so), and the rules evaluated on that scrape (held for an hour) fire
#    nothing while the pool is converged, and exactly HugevmPoolDegraded and
#    HugevmPoolShort once it cannot reach its target.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/fakekernel/fakekernel.sh"

RULES=$top_srcdir/contrib/prometheus/hugevm.rules.yml
RULES_TEST=$top_srcdir/contrib/prometheus/hugevm.rules.test.yml
DASHBOARD=$top_srcdir/contrib/grafana/hugevm.json
HUGEVMD=$top_builddir/daemon/hugevmd
# The node_exporter meminfo metrics the memory rule and panel may use, and no
# other name from outside hugevmd.
NODE_EXPORTER="node_memory_MemTotal_bytes node_memory_MemAvailable_bytes node_memory_Hugetlb_bytes
node_memory_HugePages_Total node_memory_Hugepagesize_bytes"
export NODE_EXPORTER

command -v promtool >/dev/null || tap_skip_all_unless_ci "promtool not installed (Debian package prometheus)"
command -v python3 >/dev/null || tap_skip_all "python3 not installed"
python3 -c 'import yaml' 2>/dev/null || tap_skip_all_unless_ci "python3-yaml not installed"

tmp=$(mktemp -d /tmp/hugevm-rules.XXXXXX)
root=$tmp/root conf=$tmp/hugevmd.conf log=$tmp/daemon.log
pid=
cleanup() {
        [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
        fk_stop_all
        rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# The checks, in python: "names" lists the metric names of every expression,
# "check" compares them with a scrape, the rest as their comments say.
cat >"$tmp/rules.py" <<'PY'
import json, os, re, sys
import yaml

FUNC_KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
                 "offset", "bool", "inf", "nan", "atan2",
                 # aggregation operators: followed by "by (...)" as often as by "("
                 "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
                 "bottomk", "topk", "quantile", "limitk", "limit_ratio"}

def names(expr):
    """The metric names a PromQL expression selects (Grafana variables allowed)."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', ' "" ', expr)   # strings
    if "__name__" in s:
        raise ValueError("a __name__ matcher: this check cannot see its metric: " + expr)
    s = re.sub(r'#[^\n]*', ' ', s)                                # comments
    s = re.sub(r'\$\{[^}]*\}|\$\w+|\[\[\w+\]\]', ' 1 ', s)        # Grafana variables
    s = re.sub(r'\{[^{}]*\}', ' ', s)                             # label matchers
    s = re.sub(r'\[[^\]]*\]', ' ', s)                             # ranges, subqueries
    s = re.sub(r'\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)', r' \1 ', s)
    s = re.sub(r'\boffset\s+-?[0-9a-zA-Z]+', ' ', s)
    s = re.sub(r'@\s*[-+0-9.eE]+', ' ', s)
    s = re.sub(r'(?<![\w:.])(0[xX][0-9a-fA-F]+|\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)', ' ', s)
    found = set()
    for m in re.finditer(r'(?<![\w:])([a-zA-Z_:][\w:]*)', s):
        word = m.group(1)
        if re.match(r'\s*\(', s[m.end():]):
            continue                                              # a function
        if word.lower() in FUNC_KEYWORDS:
            continue
        found.add(word)
    return found

def variable_names(query):
    """A Grafana variable query: label_values(SELECTOR, LABEL), label_values(LABEL), query_result(EXPR)."""
    m = re.fullmatch(r'\s*label_values\(\s*(.*?)\s*,\s*\w+\s*\)\s*', query, re.S)
    if m:
        return names(m.group(1))
    if re.fullmatch(r'\s*label_values\(\s*\w+\s*\)\s*', query):
        return set()
    m = re.fullmatch(r'\s*query_result\((.*)\)\s*', query, re.S)
    if m:
        return names(m.group(1))
    raise ValueError("variable query this check does not understand: " + query)

def selftest():
    cases = [
        ('sum by (size) (rate(hugevm_requests_total{method="status",result!~"ok|a(b)"}[5m] offset 1h)) > bool 0',
         {"hugevm_requests_total"}),
        ('hugevm_pool_pages * on(instance, job, size) group_left(node) hugevm_page_size_bytes',
         {"hugevm_pool_pages", "hugevm_page_size_bytes"}),
        ('max_over_time(hugevm_up[1h]) unless hugevm_up # hugevm_in_a_comment', {"hugevm_up"}),
        ('instance:node_memory_utilisation_excluding_hugetlb:ratio * 100 > 90',
         {"instance:node_memory_utilisation_excluding_hugetlb:ratio"}),
        ('histogram_quantile(0.9, sum(rate(x_bucket{instance=~"$instance"}[$__rate_interval])) by (le))', {"x_bucket"}),
        ('absent(hugevm_up) or vector(0) and Inf > NaN and 1e3 > 0x1F and .5 < 2.5e-3', {"hugevm_up"}),
        ('count without (state) (hugevm_pool_state{state="degraded"} == 1)', {"hugevm_pool_state"}),
        ('topk(3, hugevm_a) and ignoring (size) hugevm_b / on() group_right hugevm_c', {"hugevm_a", "hugevm_b", "hugevm_c"}),
        ('rate(hugevm_a[5m:30s] @ 1609746000) - hugevm_b{l="}{"} offset -5m', {"hugevm_a", "hugevm_b"}),
        ('label_replace(hugevm_a, "dst", "$1", "src", "(.*)")', {"hugevm_a"}),
    ]
    bad = 0
    for expr, want in cases:
        got = names(expr)
        if got != want:
            print("# names(%r) = %s, want %s" % (expr, sorted(got), sorted(want)))
            bad += 1
    for q, want in [('label_values(hugevm_up{job="x"}, instance)', {"hugevm_up"}), ('label_values(job)', set())]:
        if variable_names(q) != want:
            print("# variable_names(%r) = %s" % (q, sorted(variable_names(q))))
            bad += 1
    try:
        names('{__name__="hugevm_up"}')
        print("# a __name__ matcher went unnoticed")
        bad += 1
    except ValueError:
        pass
    return bad == 0

def rules_exprs(path):
    """(where, expr, is_node_memory_group) of every rule."""
    doc = yaml.safe_load(open(path))
    for g in doc["groups"]:
        for r in g["rules"]:
            yield "rule %s" % (r.get("alert") or r.get("record")), r["expr"], g["name"]

def dashboard_panels(path):
    def walk(panels):
        for p in panels:
            yield p
            yield from walk(p.get("panels", []))
    return list(walk(json.load(open(path)).get("panels", [])))

def dashboard_exprs(path):
    """(where, expr) of every panel query and variable query."""
    d = json.load(open(path))
    for p in dashboard_panels(path):
        for t in p.get("targets", []):
            yield "panel %r %s" % (p.get("title"), t.get("refId")), t.get("expr", "")
    for v in d.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
            yield "variable %s (%s)" % (v["name"], v.get("label", "")), q

def scrape_names(path):
    """What a scrape declares: sample names, and families (histograms: _bucket, _sum, _count)."""
    ok = set()
    with_samples = set()
    for line in open(path):
        m = re.match(r'# TYPE (\S+) (\S+)', line)
        if m:
            if m.group(2) in ("histogram", "summary"):
                ok |= {m.group(1) + s for s in ("_bucket", "_sum", "_count")} if m.group(2) == "histogram" \
                    else {m.group(1), m.group(1) + "_sum", m.group(1) + "_count"}
            else:
                ok.add(m.group(1))
        elif line.strip() and not line.startswith("#"):
            name = re.match(r'([a-zA-Z_:][\w:]*)', line).group(1)
            ok.add(name)
            with_samples.add(name)
    return ok, with_samples

def cmd_check(kind, scrape):
    node_exporter = set(os.environ["NODE_EXPORTER"].split())
    declared, with_samples = scrape_names(scrape)
    recorded = {r["record"] for g in yaml.safe_load(open(RULES))["groups"] for r in g["rules"] if "record" in r}
    bad, used, node_used = 0, set(), set()
    if kind == "rules":
        items = [(w, e, g == "hugevm-node-memory") for w, e, g in rules_exprs(RULES)]
    else:
        items = [(w, e, "node_exporter" in w) for w, e in dashboard_exprs(DASHBOARD)]
    for where, expr, node_ok in items:
        found = variable_names(expr) if where.startswith("variable") else names(expr)
        if not found:
            print("# %s: no metric name at all in %r" % (where, expr))
            bad += 1
        for n in sorted(found):
            used.add(n)
            if n in declared or (kind == "rules" and n in recorded):
                continue
            if n in node_exporter:
                node_used.add(n)
                if node_ok:
                    continue
                print("# %s: node_exporter's %s outside the place marked for it" % (where, n))
            else:
                print("# %s: %s is not in the scrape" % (where, n))
            bad += 1
    hv = sorted(n for n in used if n in declared)
    print("# %d hugevmd names checked: %s" % (len(hv), " ".join(hv)))
    quiet = sorted(n for n in hv if n not in with_samples)
    if quiet:
        print("# declared (# TYPE) but without a sample in this scrape: %s" % " ".join(quiet))
    if node_used:
        print("# node_exporter names used: %s" % " ".join(sorted(node_used)))
    return bad == 0

def cmd_node_list():
    """node_exporter names used, rules and dashboard together: exactly the list."""
    node_exporter = set(os.environ["NODE_EXPORTER"].split())
    used = set()
    for _, e, _ in rules_exprs(RULES):
        used |= {n for n in names(e) if n.startswith("node_")}
    for w, e in dashboard_exprs(DASHBOARD):
        used |= {n for n in (variable_names(e) if w.startswith("variable") else names(e)) if n.startswith("node_")}
    if used != node_exporter:
        print("# used: %s; listed: %s" % (sorted(used), sorted(node_exporter)))
    return used == node_exporter

def cmd_cases():
    """Every alert has a test where it fires and one where it does not."""
    alerts = [r["alert"] for g in yaml.safe_load(open(RULES))["groups"] for r in g["rules"] if "alert" in r]
    fires, quiet = set(), set()
    for t in yaml.safe_load(open(RULES_TEST))["tests"]:
        for a in t.get("alert_rule_test", []):
            (fires if a.get("exp_alerts") else quiet).add(a["alertname"])
    bad = [a for a in alerts if a not in fires or a not in quiet]
    for a in alerts:
        print("# %-45s firing case: %-3s non-firing case: %s" % (a, "yes" if a in fires else "NO",
                                                                "yes" if a in quiet else "NO"))
    return not bad and len(alerts) > 0

def cmd_annotations():
    """Every alert: summary, description, and a runbook naming a command to look with."""
    bad = 0
    for g in yaml.safe_load(open(RULES))["groups"]:
        for r in g["rules"]:
            if "alert" not in r:
                continue
            a = r.get("annotations", {})
            miss = [k for k in ("summary", "description", "runbook") if not a.get(k)]
            if miss or not re.search(r'hugevmctl (status|wait|reload|watch)|journalctl -u hugevmd', a.get("runbook", "")):
                print("# %s: missing %s or a hugevmctl/journalctl hint in its runbook" % (r["alert"], miss))
                bad += 1
            if r.get("labels", {}).get("severity") not in ("info", "warning", "critical"):
                print("# %s: no severity label" % r["alert"])
                bad += 1
    return bad == 0

def cmd_dashboard():
    """Valid JSON, the variables, every panel a title and a query on ${datasource}."""
    d = json.load(open(DASHBOARD))
    bad = 0
    var = {v["name"]: v for v in d.get("templating", {}).get("list", [])}
    if var.get("datasource", {}).get("type") != "datasource" or var["datasource"].get("query") != "prometheus":
        print("# no datasource variable of type prometheus"); bad += 1
    if "instance" not in var:
        print("# no instance variable"); bad += 1
    if not isinstance(d.get("schemaVersion"), int) or d["schemaVersion"] < 36:
        print("# schemaVersion %r" % d.get("schemaVersion")); bad += 1
    panels = dashboard_panels(DASHBOARD)
    for p in panels:
        if p.get("type") == "row":
            continue
        title = p.get("title", "")
        targets = [t for t in p.get("targets", []) if t.get("expr", "").strip()]
        if not title.strip() or not targets:
            print("# panel %s: title %r, %d queries" % (p.get("id"), title, len(targets))); bad += 1
        for x in [p] + targets:
            if x.get("datasource", {}).get("uid") != "${datasource}":
                print("# panel %r: datasource %r" % (title, x.get("datasource"))); bad += 1
    print("# %d panels, %d queries" % (len(panels), sum(len(p.get("targets", [])) for p in panels)))
    return bad == 0 and len(panels) > 0

def cmd_dashboard_rules(out):
    """The dashboard's queries as a rules file (Grafana variables filled in), for promtool to parse."""
    rules = []
    for i, (where, expr) in enumerate(dashboard_exprs(DASHBOARD)):
        if where.startswith("variable"):
            continue
        e = re.sub(r'\$__(rate_interval|interval|range)\b|\$\{__(rate_interval|interval|range)\}', '5m', expr)
        e = re.sub(r'\$\{[^}]*\}|\$\w+', 'x', e)
        rules.append({"record": "dashboard:query_%d" % i, "expr": e})
    yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, open(out, "w"))
    return True

def cmd_live_test(scrape, out, eval_min, *alerts):
    """A promtool unit test: the scrape held for an hour; at eval_min, exactly these alerts fire."""
    series = []
    for line in open(scrape):
        m = re.match(r'([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$', line.strip())
        if not m or line.startswith("#") or m.group(3) in ("NaN", "+Inf", "-Inf"):
            continue
        labels = 'instance="live:9464",job="hugevm"' + ("," + m.group(2) if m.group(2) else "")
        series.append({"series": "%s{%s}" % (m.group(1), labels), "values": "%sx%d" % (m.group(3), eval_min + 10)})
    test = {"rule_files": [RULES], "evaluation_interval": "1m", "tests": [{
        "interval": "1m", "input_series": series,
        "promql_expr_test": [{"expr": 'count by (alertname) (ALERTS{alertstate="firing"})',
                              "eval_time": "%dm" % eval_min,
                              "exp_samples": [{"labels": '{alertname="%s"}' % a, "value": 1} for a in alerts]}]}]}
    yaml.safe_dump(test, open(out, "w"))
    print("# %d series from the scrape" % len(series))
    return True

RULES, RULES_TEST, DASHBOARD = sys.argv[1:4]
cmd, args = sys.argv[4], sys.argv[5:]
if cmd == "selftest":
    ok = selftest()
elif cmd == "live_test":
    ok = cmd_live_test(args[0], args[1], int(args[2]), *args[3:])
else:
    ok = globals()["cmd_" + cmd](*args)
sys.exit(0 if ok else 1)
PY
py() { python3 "$tmp/rules.py" "$RULES" "$RULES_TEST" "$DASHBOARD" "$@"; }
# show OUTPUT: as TAP comments
show() { [ -n "$1" ] && printf '%s\n' "$1" | sed 's/^\([^#]\)/#   \1/'; }

# -- 1. promtool on the shipped rules ----------------------------------------
out=$(promtool check rules "$RULES" 2>&1); rc=$?
show "$out"
tap_ok $rc "promtool check rules $(basename "$RULES")"
# promtool resolves rule_files against the test file's directory
out=$(cd "$(dirname "$RULES_TEST")" && promtool test rules "$(basename "$RULES_TEST")" 2>&1); rc=$?
show "$out"
tap_ok $rc "promtool test rules $(basename "$RULES_TEST")"
out=$(py cases); rc=$?
show "$out"
tap_ok $rc "every alert has a firing and a non-firing case in the unit tests"
out=$(py annotations); rc=$?
show "$out"
tap_ok $rc "every alert has a severity, a summary, a description and a runbook naming hugevmctl or journalctl"

# -- the metric-name extractor itself ------------------------------------------
out=$(py selftest); rc=$?
show "$out"
tap_ok $rc "the PromQL metric-name extractor gives the right names on known expressions"

# -- 3. the dashboard ---------------------------------------------------------
out=$(python3 -m json.tool "$DASHBOARD" 2>&1 >/dev/null); rc=$?
show "$out"
tap_ok $rc "$(basename "$DASHBOARD") is valid JSON"
out=$(py dashboard); rc=$?
show "$out"
tap_ok $rc "dashboard: datasource and instance variables; every panel has a title and a query on \${datasource}"
py dashboard_rules "$tmp/dashboard-queries.yml"
out=$(promtool check rules "$tmp/dashboard-queries.yml" 2>&1); rc=$?
show "$out"
tap_ok $rc "every dashboard query parses as PromQL (promtool check rules, variables filled in)"
out=$(py node_list); rc=$?
show "$out"
tap_ok $rc "node_exporter names used are exactly: $(echo $NODE_EXPORTER)"

# -- 2. the names against a live scrape ---------------------------------------
live_cases() {
        local port
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        fk_start "$root" -s nodes=1 -s sizes=2048 -s mem=2G ||
                { echo "Bail out! cannot start the fake kernel on $root"; exit 1; }
        mkdir -p "$tmp/state"
        write_config() {
                cat >"$conf" <<CONF
[Daemon]
HVO=yes
StateDirectory=$tmp/state
MetricsListen=127.0.0.1:$port
RefreshSec=1

[Pool 2048kB]
$1
CONF
        }
        # A per-node target first, a pool target next: both families get samples.
        write_config "Node0.Pages=64"
        "$HUGEVMD" --root "$root" --config "$conf" --socket "$tmp/hugevmd.sock" >"$log" 2>&1 &
        pid=$!
        scrape() { curl -sf --max-time 5 "http://127.0.0.1:$port/metrics" >"$tmp/scrape.tmp" && mv "$tmp/scrape.tmp" "$1"; }
        has() { grep -qxF "$2" "$1"; }
        poll() { # poll SECONDS COMMAND...
                local i=0
                while [ $i -lt $(($1 * 10)) ]; do "${@:2}" && return 0; sleep 0.1; i=$((i + 1)); done
                return 1
        }
        converged() { scrape "$tmp/scrape" && has "$tmp/scrape" 'hugevm_pool_state{size="2048kB",state="converged"} 1' &&
                      has "$tmp/scrape" 'hugevm_measured_agrees 1'; }
        poll 15 converged
        tap_ok $? "hugevmd on the fake kernel: 2048kB pool converged at its node 0 target of 64 pages, scraped from 127.0.0.1:$port" ||
                { tail -n 20 "$log" | sed 's/^/# daemon: /'; }
        echo "# $(grep -vc '^#' "$tmp/scrape") samples, $(grep -c '^# TYPE' "$tmp/scrape") families"
        # The rules on this scrape, held for an hour: a converged pool fires nothing.
        py live_test "$tmp/scrape" "$tmp/live-ok.test.yml" 40 >/dev/null
        out=$(promtool test rules "$tmp/live-ok.test.yml" 2>&1); rc=$?
        [ $rc -eq 0 ] || show "$out"
        tap_ok $rc "the rules on the live scrape of a converged pool, held 40 minutes: no alert fires"

        # 10 more pages of room on node 0, a target of 128: short, retried
        # three times (1, 2, 4 s), then degraded.
        fk_ctl "$root" memory 0 2048kB 10
        write_config "Pages=128"
        kill -HUP "$pid"
        degraded() { scrape "$tmp/scrape-short" &&
                     has "$tmp/scrape-short" 'hugevm_pool_state{size="2048kB",state="degraded"} 1'; }
        poll 30 degraded
        tap_ok $? "after a grow to 128 pages with room for 10 more: the pool is degraded" ||
                { tail -n 20 "$log" | sed 's/^/# daemon: /'; }
        grep -E '^hugevm_(pool_pages|pool_target_pages|node_pages|node_target_pages|pool_retries_total)\{' "$tmp/scrape-short" |
                sed 's/^/#   /'
        py live_test "$tmp/scrape-short" "$tmp/live-short.test.yml" 40 HugevmPoolDegraded HugevmPoolShort >/dev/null
        out=$(promtool test rules "$tmp/live-short.test.yml" 2>&1); rc=$?
        [ $rc -eq 0 ] || show "$out"
        tap_ok $rc "the rules on that scrape, held 40 minutes: HugevmPoolDegraded and HugevmPoolShort fire, nothing else"

        # A control request, so that hugevm_requests_total has a sample too.
        requested() { scrape "$tmp/scrape-short" && grep -q '^hugevm_requests_total{' "$tmp/scrape-short"; }
        [ -x "$top_builddir/ctl/hugevmctl" ] &&
                "$top_builddir/ctl/hugevmctl" --socket "$tmp/hugevmd.sock" status >/dev/null 2>&1 && poll 5 requested
        # Both scrapes: the node target's family has samples in the first, the pool target's in the second.
        cat "$tmp/scrape" "$tmp/scrape-short" >"$tmp/scrapes"
        out=$(py check rules "$tmp/scrapes"); rc=$?
        show "$out"
        tap_ok $rc "every metric name in every rule expression is in the scrape (or a recorded rule, or listed node_exporter meminfo)"
        out=$(py check dashboard "$tmp/scrapes"); rc=$?
        show "$out"
        tap_ok $rc "every metric name in every dashboard query is in the scrape (node_exporter's only in the panel and variable marked so)"

        kill -TERM "$pid"
        wait "$pid"
        tap_is $? 0 "hugevmd stops cleanly"
        pid=
}

if [ ! -x "$HUGEVMD" ]; then
        tap_skip "hugevmd is not built yet ($HUGEVMD): no live scrape"
elif ! command -v curl >/dev/null; then
        tap_skip_unless_ci "curl not installed: no live scrape"
elif ! fk_usable; then
        tap_skip_unless_ci "$fk_why: no live scrape"
else
        live_cases
fi
tap_done
