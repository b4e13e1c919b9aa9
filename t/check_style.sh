#!/bin/sh
# Sluice: the mechanical rules of STYLE.md, checked over the C sources of
# src/ modules/ t/unit t/fuzz: 80 columns, no tabs, no trailing blanks,
# no // comments, header guards _SL_NAME_H_INCLUDED_.  Prints
# file:line: problem for each and exits non-zero when there is one.
#     sh t/check_style.sh [FILE|DIR ...]

LC_ALL=C
export LC_ALL

cd "`dirname $0`/.." || exit 2

if [ $# = 0 ]; then
    set -- src modules t/unit t/fuzz
fi

files=`for p in "$@"; do
           if [ -d "$p" ]; then
               find "$p" -type f \( -name '*.c' -o -name '*.h' \)
           elif [ -f "$p" ]; then
               echo "$p"
           fi
       done | sort`

if [ -z "$files" ]; then
    echo "check-style: no C files"
    exit 0
fi

# one awk over every file: the comment state carries across lines, and
# strings and character constants are skipped so "http://" is no comment

echo "$files" | xargs awk '
function report(msg) {
    printf "%s:%d: %s\n", FILENAME, FNR, msg
    bad++
}

function guard_name(f,    n) {
    n = f
    sub(/.*\//, "", n)
    n = toupper(n)
    gsub(/[^A-Z0-9]/, "_", n)
    if (n !~ /^SL_/) {
        n = "SL_" n
    }
    return "_" n "_INCLUDED_"
}

function check_guard(    want) {
    if (file == "" || file !~ /\.h$/) {
        return
    }
    want = guard_name(file)
    # a header not named sl_*.h may also use its plain name
    plain = want
    sub(/^_SL_/, "_", plain)
    if (ifndef_name == plain && file !~ /(^|\/)sl_[^\/]*$/) {
        want = plain
    }
    if (ifndef_name == "") {
        printf "%s:%d: no header guard (#ifndef %s)\n", file, 1, want
        bad++
    } else if (ifndef_name != want) {
        printf "%s:%d: header guard %s, expected %s\n", file, ifndef_line,
               ifndef_name, want
        bad++
    } else if (define_name != want) {
        printf "%s:%d: #ifndef %s is not followed by #define %s\n", file,
               ifndef_line, want, want
        bad++
    } else if (last_directive !~ /^#[ \t]*endif/) {
        printf "%s:%d: the header does not end with the guard'"'"'s #endif\n",
               file, ifndef_line
        bad++
    }
}

FNR == 1 {
    check_guard()
    file = FILENAME
    in_comment = 0
    ifndef_name = ""
    ifndef_line = 0
    define_name = ""
    last_directive = ""
    expect_define = 0
}

{
    line = $0

    if (length(line) > 80) {
        report("line is " length(line) " columns (80 at most)")
    }
    if (index(line, "\t") > 0) {
        report("tab character")
    }
    if (line ~ /[ \t\r]+$/) {
        report("trailing blanks")
    }

    if (line ~ /^[ \t]*#/) {
        d = line
        sub(/^[ \t]*/, "", d)
        last_directive = d
        if (ifndef_name == "" && d ~ /^#[ \t]*ifndef[ \t]/) {
            split(d, w, /[ \t]+/)
            ifndef_name = (w[1] == "#ifndef") ? w[2] : w[3]
            ifndef_line = FNR
            expect_define = 1
        } else if (expect_define) {
            if (d ~ /^#[ \t]*define[ \t]/) {
                split(d, w, /[ \t]+/)
                define_name = (w[1] == "#define") ? w[2] : w[3]
            }
            expect_define = 0
        }
    } else if (line !~ /^[ \t]*$/ && !in_comment && expect_define) {
        expect_define = 0
    }

    # // outside comments, strings and character constants
    n = length(line)
    q = ""
    code = 0
    for (i = 1; i <= n; i++) {
        c = substr(line, i, 1)
        c2 = substr(line, i, 2)
        if (in_comment) {
            if (c2 == "*/") {
                in_comment = 0
                i++
            }
        } else if (q != "") {
            if (c == "\\") {
                i++
            } else if (c == q) {
                q = ""
            }
        } else if (c2 == "/*") {
            in_comment = 1
            i++
        } else if (c2 == "//") {
            report("// comment (use /* */)")
            break
        } else if (c == "\"" || c == "'"'"'") {
            q = c
            code = 1
        } else if (c != " " && c != "\t" && c != "\r") {
            code = 1
        }
    }
    # only code after the guard'"'"'s #endif counts, comments do not
    if (code && line !~ /^[ \t]*#/) {
        last_directive = ""
    }
}

END {
    check_guard()
    if (bad) {
        printf "check-style: %d problem(s)\n", bad
        exit 1
    }
}
' || exit 1

echo "check-style: `echo "$files" | wc -l` files ok"
