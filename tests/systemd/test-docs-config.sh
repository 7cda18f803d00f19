#!/bin/bash
# Every hugevmd configuration shown in the documentation passes
# `hugevmd --check-config` on this machine (issue 14, item 5): warnings are
# allowed, errors are not. What counts as a configuration block:
#   - Markdown (README.md, docs/*.md): a fenced block opened with
#     ```ini hugevmd.conf
#   - manual pages (man/*.5, man/*.8): a .nf ... .fi block directly preceded
#     by the comment line  .\" hugevmd.conf  (roff escapes are undone);
#   - whole files: etc/hugevmd.conf (the example) and etc/hugevmd/hugevmd.conf
#     (the Debian package's /etc/hugevmd/hugevmd.conf).
# A block that holds a [Daemon] or [Pool ...] header but is not marked is a
# failure too, so that no example escapes the check. A failure prints the
# block's file:line and each error at its line in the document.
. "$top_srcdir/tests/lib.sh"

HUGEVMD=$top_builddir/daemon/hugevmd
[ -x "$HUGEVMD" ] || tap_skip_all "hugevmd is not built ($HUGEVMD)"
[ -d /sys/kernel/mm/hugepages ] || tap_skip_all "no HugeTLB on this kernel: [Pool] sections cannot be checked here"

tmp=$(mktemp -d /tmp/hugevm-docs-config.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/blocks" "$tmp/state"

# extract FILE: writes $tmp/blocks/N.conf for each marked block and one
# manifest line per block: "N<TAB>FILE<TAB>LINE-OF-FIRST-CONTENT-LINE<TAB>marked|unmarked".
extract() {
        awk -v out="$tmp/blocks" -v file="$1" -v rel="$2" '
        function start(marked) { inblock = 1; ismarked = marked; first = FNR + 1; body = ""; hasconf = 0 }
        function finish() {
                inblock = 0
                if (ismarked || hasconf) {
                        n = ++count
                        printf "%s", body > (out "/" rel_id "." n ".conf")
                        close(out "/" rel_id "." n ".conf")
                        printf "%s.%d\t%s\t%d\t%s\n", rel_id, n, rel, first, ismarked ? "marked" : "unmarked"
                }
        }
        function unroff(s) {
                gsub(/\\-/, "-", s); gsub(/\\\(aq/, "\047", s); gsub(/\\&/, "", s); gsub(/\\e/, "\\", s)
                return s
        }
        BEGIN { rel_id = rel; gsub(/[^A-Za-z0-9]/, "_", rel_id); md = file ~ /\.md$/ }
        md && /^ ? ? ?```/ {
                if (!inblock) {
                        info = $0; sub(/^ *```/, "", info); gsub(/^[ \t]+|[ \t]+$/, "", info)
                        start(info ~ /^ini[ \t]+hugevmd\.conf$/)
                } else
                        finish()
                next
        }
        !md && /^\.\\" hugevmd\.conf[ \t]*$/ { pending = 1; next }
        !md && /^\.nf/ && !inblock { start(pending); pending = 0; next }
        !md && /^\.fi/ && inblock { finish(); next }
        !md && !inblock { pending = 0 }
        inblock {
                line = md ? $0 : unroff($0)
                if (line ~ /^\[(Daemon|Pool [^]]*)\][ \t]*$/) hasconf = 1
                body = body line "\n"
        }
        ' "$1"
}

: >"$tmp/manifest"
for f in $(cd "$top_srcdir" && ls README.md docs/*.md man/*.5 man/*.8 2>/dev/null); do
        extract "$top_srcdir/$f" "$f" >>"$tmp/manifest"
done
for f in etc/hugevmd.conf etc/hugevmd/hugevmd.conf; do
        if [ -f "$top_srcdir/$f" ]; then
                id=whole.$(printf '%s' "$f" | tr -c 'A-Za-z0-9' _)
                cp "$top_srcdir/$f" "$tmp/blocks/$id.conf"
                printf '%s\t%s\t1\tmarked\n' "$id" "$f" >>"$tmp/manifest"
        else
                tap_skip "$f is not in this tree (a tarball without it)"
        fi
done

marked=$(grep -c "	marked$" "$tmp/manifest")
echo "# $marked configuration blocks found: $(cut -f2 "$tmp/manifest" | sort | uniq -c | awk '{ printf "%s %s, ", $2, $1 }')"
# The documents this issue is about do show configurations: an extraction
# that finds nothing would pass everything.
for f in README.md man/hugevmd.conf.5 etc/hugevmd.conf; do
        [ -f "$top_srcdir/$f" ] || continue
        grep -q "	$f	.*	marked$" "$tmp/manifest"
        tap_ok $? "$f: configuration blocks are found"
done

while IFS='	' read -r id file line kind; do
        where="$file:$line"
        if [ "$kind" = unmarked ]; then
                tap_ok 1 "$where: a configuration block not marked for this check (\`\`\`ini hugevmd.conf, or .\\\" hugevmd.conf before .nf)"
                continue
        fi
        # Each block alone in its own directory: no drop-in directory beside it.
        mkdir -p "$tmp/run/$id"
        conf=$tmp/run/$id/hugevmd.conf
        cp "$tmp/blocks/$id.conf" "$conf"
        "$HUGEVMD" --check-config --config "$conf" --state-dir "$tmp/state" >"$tmp/out" 2>&1
        rc=$?
        # Errors and warnings at their line in the document (block line L is
        # document line line+L-1).
        at_doc_lines() {
                sed -n "s|^hugevmd: \([a-z]*\): $conf:\([0-9][0-9]*\): \(.*\)|\2	\1: \3|p" "$tmp/out" |
                        while IFS='	' read -r l msg; do echo "#   $file:$((line + l - 1)): $msg"; done
        }
        if [ $rc = 0 ]; then
                tap_ok 0 "$where: hugevmd --check-config accepts it"
                at_doc_lines
        else
                tap_ok 1 "$where: hugevmd --check-config accepts it (exit $rc)"
                at_doc_lines
                grep "^hugevmd: " "$tmp/out" | grep -v "$conf:[0-9]" | sed 's/^/#   /'
        fi
done <"$tmp/manifest"
tap_done
