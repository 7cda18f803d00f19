#!/bin/bash
# The conventions of issue 14 kept in the units, the docs and the package:
#   - consumers of hugevm-pools.target use Wants= + After=, never a hard
#     dependency (Requires=, BindsTo=, PartOf=, Requisite=) on hugevm's units:
#     one would carry a stop or restart of hugevmd (a package upgrade) down to
#     the database behind it. Our units chain to each other (internal, allowed);
#     everything a reader may copy -- docs, manuals, examples, comments in the
#     units -- is a consumer context;
#   - every unit in systemd/ has Documentation= naming manuals we ship;
#   - the Debian package ships /etc/hugevmd/hugevmd.conf (the daemon's default
#     path) as a conffile with HVO on, no pool and every documented key
#     commented out with a line saying what it does; libhugetlbfs0 (dlopen()ed
#     by `hugevmctl verify` only) is a Recommends, not a Depends.
. "$top_srcdir/tests/lib.sh"
cd "$top_srcdir" || { echo "Bail out! cannot cd to $top_srcdir"; exit 1; }

hard='(Requires|BindsTo|PartOf|Requisite)=[^`"]*hugevm'

# ---- 1. no hard dependency on hugevm in a consumer context ------------------
files=
for f in README.md docs/*.md man/*.[0-9] etc/hugevmd.conf etc/hugevmd/* contrib/* contrib/*/* debian/*; do
        [ -f "$f" ] && files+="$f "
done
# Files the package installs as examples, wherever they are.
for ex in debian/*.examples; do
        [ -f "$ex" ] || continue
        while read -r path _; do
                for f in $path; do [ -f "$f" ] && files+="$f "; done
        done <"$ex"
done
# In the units, only comment lines are consumer context (see above).
unit_files=$(ls systemd/*.service systemd/*.service.in systemd/*.socket systemd/*.target \
                systemd/*.mount systemd/*.timer systemd/*.path 2>/dev/null)
found=$( { grep -nHE "$hard" $files /dev/null; grep -nHE "^[[:space:]]*[#;].*$hard" $unit_files /dev/null; } | sort -u)
if [ -z "$found" ]; then
        tap_ok 0 "no Requires=/BindsTo=/PartOf=/Requisite= on hugevm in docs, manuals, examples or unit comments ($(echo $files $unit_files | wc -w) files)"
else
        tap_ok 1 "no Requires=/BindsTo=/PartOf=/Requisite= on hugevm in docs, manuals, examples or unit comments"
        printf '%s\n' "$found" | sed 's/^/#   consumer uses a hard dependency (use Wants= + After=): /'
fi

# The documented pattern is there, where consumers look for it.
for f in docs/systemd.md README.md systemd/hugevm-pools.target; do
        grep -q 'Wants=hugevm-pools\.target' "$f" && grep -q 'After=hugevm-pools\.target' "$f"
        tap_ok $? "$f shows Wants=hugevm-pools.target with After=hugevm-pools.target"
done

# ---- 2. Documentation= in every unit, naming manuals we ship ----------------
for u in $unit_files; do
        docs=$(sed -n '/^\[Unit\]/,/^\[/s/^Documentation=//p' "$u")
        [ -n "$docs" ]
        tap_ok $? "$u: Documentation= in [Unit]" || continue
        bad=
        for d in $docs; do
                case $d in
                man:*\(*\))
                        page=${d#man:}
                        sec=${page##*(}; sec=${sec%)}
                        [ -f "man/${page%(*}.$sec" ] || bad+="$d (no man/${page%(*}.$sec) "
                        ;;
                http://* | https://* | file:* | info:*) ;;
                *) bad+="$d (not man:, http(s):, file: or info:) " ;;
                esac
        done
        [ -z "$bad" ]
        tap_ok $? "$u: Documentation= names what we ship${bad:+: $bad}"
done

# ---- 3. the package -------------------------------------------------------------
if [ ! -f debian/control ]; then
        tap_skip "no debian/ in this tree (a tarball): packaging checks skipped"
        tap_done
        exit
fi
# The hugevm stanza's fields, continuation lines joined.
stanza=$(awk '/^Package: /{p = ($2 == "hugevm")} p' debian/control | sed -e ':a' -e 'N' -e '$!ba' -e 's/\n[ \t]\+/ /g')
field() { printf '%s\n' "$stanza" | sed -n "s/^$1: //p"; }
field Depends | grep -q 'libhugetlbfs'
tap_ok $((!$?)) "hugevm does not Depend on libhugetlbfs0 (only dlopen()ed by verify)"
field Recommends | grep -q 'libhugetlbfs0'
tap_ok $? "hugevm Recommends libhugetlbfs0"

conf=etc/hugevmd/hugevmd.conf
daemon_path=$(sed -n 's/^#define HUGEVMD_CONFIG_PATH "\(.*\)"/\1/p' daemon/core/conf.h)
tap_is "$daemon_path" "/$conf" "the daemon's default configuration path is the one the package ships ($conf)"
grep -qx "$conf" debian/hugevm.install
tap_ok $? "debian/hugevm.install installs $conf (from the sources)"
[ -f "$conf" ]
tap_ok $? "$conf exists in the sources" || { tap_done; exit; }
grep -qx 'HVO=yes' "$conf"
tap_ok $? "$conf: HVO=yes"
! grep -Eq '^[[:space:]]*\[Pool' "$conf"
tap_ok $? "$conf: no pool (no active [Pool] section)"
active=$(grep -vE '^[[:space:]]*([#;]|$)' "$conf" | grep -vx -e '\[Daemon\]' -e 'HVO=yes')
[ -z "$active" ]
tap_ok $? "$conf: no key but HVO= is set" || printf '%s\n' "$active" | sed 's/^/#   /'

# Every key hugevmd.conf(5) documents is in the conffile, commented out, right
# after a comment line that says what it does.
keys=$(awk '/^\.(TP|TQ)$/ { getline; print }' man/hugevmd.conf.5 |
        sed -n 's/^\.B[IR]\{0,1\} \(Node N \.\)\{0,1\}\([A-Za-z]*\)=.*/\1\2/p' | sed 's/^Node N \./Node[0-9]*./' | sort -u)
nkeys=$(printf '%s\n' "$keys" | grep -c .)
[ "$nkeys" -ge 20 ]
tap_ok $? "hugevmd.conf(5) documents $nkeys keys (20 or more expected: the extraction works)"
missing= unexplained=
for k in $keys; do
        line=$(grep -nE "^#$k=" "$conf" | head -n 1 | cut -d: -f1)
        if [ "$k" = HVO ]; then line=$(grep -nx 'HVO=yes' "$conf" | cut -d: -f1); fi
        if [ -z "$line" ]; then missing+="$k "; continue; fi
        prev=$(sed -n "$((line - 1))p" "$conf")
        case $prev in "# "?*) ;; *) unexplained+="$k " ;; esac
done
[ -z "$missing" ]
tap_ok $? "$conf: every documented key is present, commented out${missing:+ (missing: $missing)}"
[ -z "$unexplained" ]
tap_ok $? "$conf: every key has a line that explains it${unexplained:+ (not: $unexplained)}"
tap_done
