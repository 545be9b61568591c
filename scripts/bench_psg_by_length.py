"""-psg words/cpu-s of the `senna` drop-in's lean path by sentence length, on a WSJ .tsv.gz
(pre-tokenised), best of 2 per length bucket, in-process (no load time).

    python scripts/bench_psg_by_length.py training/senna assets/ptb_pos/wsj_dev.tsv.gz
"""
import gzip
import io
import sys
import time
from spacy_senna.dropin import lean
from spacy_senna.dropin.args import parse_args
from spacy_senna.dropin.main import tag_stream

sentences, words = [], []
model, text = sys.argv[1], sys.argv[2]
for line in gzip.open(text, "rt"):
    line = line.rstrip("\n")
    if not line:
        if words:
            sentences.append(" ".join(words))
            words = []
        continue
    words.append(line.split("\t")[0])
run = lean.load_run(parse_args(["--model", model, "-usrtokens", "-psg"]), lambda m: None)
if run is None:
    sys.exit(f"{model}: the lean path cannot run -psg (run `senna -psg -usrtokens --model {model}` once to write its export)")
for low, high in [(1, 10), (11, 20), (21, 40), (41, 1000)]:
    part = [s for s in sentences if low <= len(s.split()) <= high]
    n_words = sum(len(s.split()) for s in part)
    data = ("\n".join(part) + "\n").encode()
    best = None
    for _ in range(2):
        start = time.process_time()
        tag_stream(run, io.BytesIO(data), io.BytesIO())
        seconds = time.process_time() - start
        best = seconds if best is None else min(best, seconds)
    print(f"{low}-{high if high < 1000 else '+'}: {len(part)} sentences, {n_words} words, {n_words / best:,.0f} words/cpu-s")
