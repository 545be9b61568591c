"""-psg words/cpu-s of the `senna` drop-in's lean path by sentence length (bench's
LENGTH_BUCKETS), on a WSJ .tsv.gz (pre-tokenised), best of 2 per bucket, in-process (no
load time).

    python scripts/bench_psg_by_length.py training/senna assets/ptb_pos/wsj_dev.tsv.gz
"""
import io
import sys
import time

from spacy_senna.cli.bench import length_buckets
from spacy_senna.dropin import lean
from spacy_senna.dropin.args import parse_args
from spacy_senna.dropin.main import tag_stream
from spacy_senna.readers import read_sentences

model, text = sys.argv[1], sys.argv[2]
sentences = [sentence.words for sentence in read_sentences(text, "wsj")]
try:
    run = lean.load_run(parse_args(["--model", model, "-usrtokens", "-psg"]), lambda message: None)
except lean.ExportError as err:  # stale or unreadable: the spaCy path rewrites it
    run, reason = None, str(err)
else:
    reason = "no fast-path export of its -psg yet"
if run is None:
    sys.exit(f"{model}: {reason}; run `senna -psg -usrtokens --model {model}` once to write it")
for label, indices in length_buckets([len(words) for words in sentences]).items():
    n_words = sum(len(sentences[i]) for i in indices)
    data = ("\n".join(" ".join(sentences[i]) for i in indices) + "\n").encode()
    seconds = []
    for _ in range(2):
        start = time.process_time()
        tag_stream(run, io.BytesIO(data), io.BytesIO())
        seconds.append(time.process_time() - start)
    print(f"{label}: {len(indices)} sentences, {n_words} words, {n_words / min(seconds):,.0f} words/cpu-s")
