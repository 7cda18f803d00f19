#!/bin/bash
# The bash completion (contrib/bash-completion/hugevmctl) against what the
# built hugevmctl's --help offers: every command at the first word, after
# each command its own long options (those of its lines in --help, a short
# one there like "-n N" by the long name --help pairs with it) and the global
# ones and no others, vmemmap's actions, the sizes this machine's
# /sys/kernel/mm/hugepages has where a SIZE goes, --node's nodes, -o's
# columns, files for --socket and directories for --root. The expected lists
# come from --help and /sys, never from the completion file; it runs in the
# real bash-completion (Debian package bash-completion), called as bash calls
# it after a TAB: COMP_WORDS, COMP_CWORD, COMP_LINE, COMP_POINT set, the
# function called, COMPREPLY read.
. "$top_srcdir/tests/lib.sh"
export LC_ALL=C # one sort order for sort and comm

HUGEVMCTL=$top_builddir/ctl/hugevmctl
COMPLETION=$top_srcdir/contrib/bash-completion/hugevmctl
BASH_COMPLETION=/usr/share/bash-completion/bash_completion
[ -x "$HUGEVMCTL" ] || tap_skip_all "hugevmctl is not built ($HUGEVMCTL)"
if [ ! -r "$BASH_COMPLETION" ]; then
        # tools/install-deps.sh installs it: under CI=true its absence is a failure.
        if [ "${CI:-}" = true ]; then
                tap_planned=1
                echo "Bail out! CI=true, yet $BASH_COMPLETION is missing (Debian package bash-completion, tools/install-deps.sh)"
                exit 1
        fi
        tap_skip_all "$BASH_COMPLETION is missing (Debian package bash-completion)"
fi
. "$BASH_COMPLETION"
. "$COMPLETION"
complete -p hugevmctl 2>/dev/null | grep -q -- '-F _hugevmctl'
tap_ok $? "the completion file registers _hugevmctl for hugevmctl" || { tap_done; exit 1; }

tmp=$(mktemp -d /tmp/hugevm-completion.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# ---- What --help offers --------------------------------------------------
help=$("$HUGEVMCTL" --help)
# The sections: the lines after "Commands:" / "Options:" up to a blank line.
section() { printf '%s\n' "$help" | awk -v s="$1:" '$0 == s { on = 1; next } on && /^$/ { exit } on'; }
commands_text=$(section Commands)
options_text=$(section Options)
# A command's lines: those starting "  NAME" (a command at two spaces; vmemmap
# has two) and the more indented ones after each.
command_text() {
        printf '%s\n' "$commands_text" | awk -v c="$1" '
                /^  [^ ]/ { on = ($1 == c) }
                on'
}
# The long names of short options, from --help's "-x, --long" pairs.
declare -A long_of
while read -r s l; do long_of[${s%,}]=$l; done < <(printf '%s\n' "$help" | grep -oE -- '-[a-zA-Z], --[a-z][a-z-]*')
# long_options TEXT: the long options TEXT names, "-n N" as --node.
long_options() {
        {
                printf '%s\n' "$1" | grep -oE -- '--[a-z][a-z-]*'
                printf '%s\n' "$1" | grep -oE -- '(^|[[ ])-[a-zA-Z]([] ]|$)' | tr -d '[] ' |
                        while read -r s; do echo "${long_of[$s]:-$s}"; done
        } | sort -u
}
commands=$(printf '%s\n' "$commands_text" | awk '/^  [^ ]/ { print $1 }' | sort -u)
globals=$(long_options "$options_text")
columns=$(printf '%s\n' "$help" | sed -n '/^Columns of status/{n;p}' | tr -d '*' | tr ' ' '\n' | grep . | sort -u)
# vmemmap's actions: the second word of its lines, "on|off|status" split.
vmemmap_actions=$(command_text vmemmap | awk '/^  [^ ]/ { print $2 }' | tr '|' '\n' | grep -E '^[a-z]+$' | sort -u)
n_commands=$(printf '%s\n' "$commands" | grep -c .)
[ "$n_commands" -ge 10 ] && [ -n "$globals" ] && [ -n "$columns" ] && [ -n "$vmemmap_actions" ]
tap_ok $? "--help parses: $n_commands commands, global options $(echo $globals), vmemmap $(echo $vmemmap_actions)"

# The sizes of this machine, the nodes.
sizes=$(ls /sys/kernel/mm/hugepages 2>/dev/null | sed -n 's/^hugepages-//p' | sort -u)
nodes=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | sed 's|.*/node||' | sort -u)

# ---- Driving the completion as bash does ---------------------------------
# complete_line LINE: the completions of the word under the cursor at the end
# of LINE, sorted, one a line. LINE is split into COMP_WORDS as bash splits
# it: on blanks, and each run of COMP_WORDBREAKS characters (= : and the
# like) a word of its own; a trailing blank starts an empty word.
complete_line() {
        local line=$1 w
        local -a blank_split
        read -ra blank_split <<<"$line"
        COMP_WORDS=()
        for w in "${blank_split[@]}"; do
                while [[ $w =~ ^([^=:\;\|\&\(\<\>]*)([=:\;\|\&\(\<\>]+)(.*)$ ]]; do
                        [[ ${BASH_REMATCH[1]} ]] && COMP_WORDS+=("${BASH_REMATCH[1]}")
                        COMP_WORDS+=("${BASH_REMATCH[2]}")
                        w=${BASH_REMATCH[3]}
                done
                [[ $w ]] && COMP_WORDS+=("$w")
        done
        [[ $line == *" " ]] && COMP_WORDS+=("")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMP_LINE=$line
        COMP_POINT=${#line}
        COMPREPLY=()
        _hugevmctl hugevmctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" 2>/dev/null
        ((${#COMPREPLY[@]})) && printf '%s\n' "${COMPREPLY[@]}" | sort -u
}
# missing WANT GOT: the lines of WANT not in GOT, on one line.
missing() { comm -23 <(printf '%s\n' "$1" | grep . | sort -u) <(printf '%s\n' "$2" | grep . | sort -u) | paste -sd' '; }
# offers LINE WANT DESCRIPTION: completing LINE offers every line of WANT.
offers() {
        local got miss
        got=$(complete_line "$1")
        miss=$(missing "$2" "$got")
        [ -z "$miss" ]
        tap_ok $? "$3" || echo "#   '$1<TAB>' lacks: $miss (offers: $(echo $got))"
}
# offers_exactly LINE WANT DESCRIPTION: every line of WANT and nothing else.
offers_exactly() {
        local got miss extra
        got=$(complete_line "$1")
        miss=$(missing "$2" "$got")
        extra=$(missing "$got" "$2")
        [ -z "$miss" ] && [ -z "$extra" ]
        tap_ok $? "$3" || echo "#   '$1<TAB>' lacks: ${miss:-nothing}; offers beyond --help: ${extra:-nothing}"
}

# ---- Commands ------------------------------------------------------------
first=$(complete_line "hugevmctl ")
for c in $commands; do
        printf '%s\n' "$first" | grep -qxF -- "$c"
        tap_ok $? "'hugevmctl <TAB>' offers $c" || echo "#   offers: $(echo $first)"
done
extra=$(missing "$first" "$commands")
[ -z "$extra" ]
tap_ok $? "'hugevmctl <TAB>' offers no command --help lacks" || echo "#   beyond --help: $extra"
offers_exactly "hugevmctl --" "$globals" "'hugevmctl --<TAB>' offers the global options"

# ---- Each command's options ----------------------------------------------
for c in $commands; do
        want=$(printf '%s\n%s\n' "$(long_options "$(command_text "$c")")" "$globals" | grep . | sort -u)
        offers_exactly "hugevmctl $c --" "$want" "'hugevmctl $c --<TAB>': $(echo $want)"
done
# Options before the command and their values do not hide it.
offers "hugevmctl --socket /tmp/x.sock -j set --" "--dry-run" "options and their values before the command are skipped"
got=$(complete_line "hugevmctl vmemmap on --")
! printf '%s\n' "$got" | grep -qxE -- '--(node|wait|timeout)'
tap_ok $? "'hugevmctl vmemmap on --<TAB>' offers none of optimize's --node --wait --timeout"

# ---- Arguments -----------------------------------------------------------
offers_exactly "hugevmctl vmemmap " "$vmemmap_actions" "'hugevmctl vmemmap <TAB>' offers $(echo $vmemmap_actions)"
offers "hugevmctl vmemmap o" "$(printf 'on\noff\noptimize\n')" "'hugevmctl vmemmap o<TAB>' offers on off optimize"
# Where --help has a SIZE: the line's words before it, a command and an action.
size_lines=$(printf '%s\n' "$commands_text" | awk '/^  [^ ]/ { l = ""; for (i = 1; i <= NF; i++) { if ($i ~ /^\[?SIZE\]?$/) { print l; break } l = l $i " " } }')
if [ -z "$sizes" ]; then
        tap_skip "this machine has no /sys/kernel/mm/hugepages sizes to offer"
else
        while read -r words; do
                [ -n "$words" ] || continue
                got=$(complete_line "hugevmctl $words ")
                miss=$(missing "$sizes" "$got")
                extra=$(missing "$got" "$(printf '%s\ndefault\n' "$sizes")")
                [ -z "$miss" ] && [ -z "$extra" ]
                tap_ok $? "'hugevmctl $words <TAB>' offers the sizes of /sys/kernel/mm/hugepages: $(echo $sizes)" ||
                        echo "#   lacks: ${miss:-nothing}; offers beyond them and 'default': ${extra:-nothing}"
        done <<<"$size_lines"
        one=$(printf '%s\n' "$sizes" | head -n1)
        tap_is "$(complete_line "hugevmctl set $one ")" "" "'hugevmctl set $one <TAB>' offers no size for the amount"
fi
offers "hugevmctl set 2M 1 --node " "$nodes" "'--node <TAB>' offers the nodes: $(echo $nodes)"
offers "hugevmctl set 2M 1 --node=" "$nodes" "'--node=<TAB>' offers the nodes too"
offers_exactly "hugevmctl status -o " "$columns" "'status -o <TAB>' offers the columns of --help"
offers_exactly "hugevmctl status --output +PAGES,FR" "+PAGES,FREE" "'status --output +PAGES,FR<TAB>' completes the last column of the list"

# ---- Files and directories -----------------------------------------------
mkdir "$tmp/dir" && : >"$tmp/file.sock"
offers_exactly "hugevmctl --root $tmp/" "$tmp/dir" "'--root DIR<TAB>' offers directories only"
offers "hugevmctl status --socket $tmp/" "$(printf '%s\n' "$tmp/dir" "$tmp/file.sock")" "'--socket PATH<TAB>' offers files"

tap_done
