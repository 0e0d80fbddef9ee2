#!/usr/bin/env bash
# Rebuilds the seed corpus (docs/fuzzing.md): every example script and every
# fenced block of docs/*.md (except rust/toml/yaml ones) seed lex_parse and
# run_source; the example data seed csv_read. gen_program starts empty: its
# inputs are arbitrary's bytes, not text. Files the fuzzers added later are
# kept; this only (re)writes the seeds, named by origin.
set -euo pipefail
cd "$(dirname "$0")"
for t in lex_parse run_source; do
    mkdir -p "corpus/$t"
    for f in ../examples/*.loss ../examples/assignment/*/*.loss ../examples/assignment/students/*/*.loss; do
        [ -f "$f" ] || continue
        n=$(echo "${f#../examples/}" | tr '/' '-')
        cp "$f" "corpus/$t/ex-$n"
    done
    for d in ../docs/*.md; do
        base=$(basename "$d" .md)
        awk -v dir="corpus/$t" -v base="$base" '
            /^```/ {
                if (open) { if (keep) close(out); open = 0; keep = 0; next }
                open = 1; lang = substr($0, 4)
                keep = (lang == "" || lang == "loss")
                if (keep) { n++; out = sprintf("%s/doc-%s-%03d", dir, base, n); printf "" > out }
                next
            }
            open && keep { print > out }
        ' "$d"
    done
done
mkdir -p corpus/csv_read
for f in ../examples/data/*.csv; do cp "$f" "corpus/csv_read/ex-$(basename "$f")"; done
printf 'a,b\n1,2\n' > corpus/csv_read/small.csv
printf '\xef\xbb\xbfx, y\n1, 2\n3,4\n' > corpus/csv_read/bom.csv
printf 'x,y\n1,2,3\n' > corpus/csv_read/ragged.csv
printf 'x\n1e400\n-inf\nnan\n' > corpus/csv_read/extremes.csv
mkdir -p corpus/gen_program
