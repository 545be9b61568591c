#!/usr/bin/env bash
# Write what a trained pipeline outputs on the dev sets into OUT_DIR, so that two versions of
# the code can be compared byte for byte (`diff -r OLD NEW`): predict files for each task, the
# senna drop-in's columns (all tasks, and each flag), and a DocBin of the annotated dev text.
# Usage: scripts/snapshot_outputs.sh MODEL OUT_DIR [SENTENCES]
set -euo pipefail
MODEL="$1"; OUT="$2"; N="${3:-2000}"
mkdir -p "$OUT"
PY="${PYTHON:-python}"
$PY -m spacy_senna predict "$MODEL" assets/ptb_pos/wsj_dev.tsv.gz "$OUT/pos.tsv" --format wsj
$PY -m spacy_senna predict "$MODEL" assets/conll2003/eng.testa "$OUT/ner.txt" --format conll2003
$PY -m spacy_senna predict "$MODEL" assets/conll2005/conll05.devel.words_props.txt.gz "$OUT/srl.props" --format conll2005
# one sentence per line, the first N dev sentences (WSJ 19-21)
$PY - "$N" > "$OUT/text.txt" <<'PYEOF'
import gzip, sys
n = int(sys.argv[1]); words = []; count = 0
for line in gzip.open("assets/ptb_pos/wsj_dev.tsv.gz", "rt", encoding="utf8"):
    line = line.strip()
    if not line:
        if words:
            print(" ".join(words)); count += 1; words = []
            if count >= n:
                break
        continue
    words.append(line.split("\t")[0])
PYEOF
for flags in "" "-pos" "-chk" "-ner" "-srl" "-pos -ner -offsettags" "-iobtags" "-brackettags"; do
  name=$(echo "all $flags" | tr -d ' -')
  $PY -m spacy_senna tag --model "$MODEL" -usrtokens $flags < "$OUT/text.txt" > "$OUT/senna_$name.txt"
done
$PY -m spacy_senna tag --model "$MODEL" < "$OUT/text.txt" > "$OUT/senna_spacytok.txt"
rm -rf "$OUT/annotate"
$PY -m spacy_senna annotate "$MODEL" "$OUT/text.txt" "$OUT/annotate" > /dev/null 2>&1
rm -f "$OUT/annotate/annotate.json"
