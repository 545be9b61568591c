"""Rebuild the POS and chunking parts of the embedded sample (assets/sample/) from free data.

POS: NLTK's Penn Treebank sample (treebank.zip, files wsj_0001-0199), read from the
`combined/` parse trees with the -NONE- traces dropped, written as WORD<TAB>TAG; files up to
wsj_0170 are the training part, wsj_0171-0199 the dev part.
Chunking: the first sentences of CoNLL-2000's train.txt (the file NLTK ships in conll2000.zip);
the demo holds out the last ones as its dev part (`convert --hold-out`).

The NER part is generated from this project's own templates: see make_ner_sample.py.

    python scripts/make_sample.py --local-data ../shared/data
"""
import argparse
import gzip
import re
import zipfile
from pathlib import Path
from typing import Iterator, List, Sequence, Tuple

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "assets" / "sample"
TREEBANK_ZIP = Path("ptb_pos") / "nltk_treebank.zip"
CONLL2000_TRAIN = Path("conll2000") / "train.txt"
LAST_POS_TRAIN_FILE = "wsj_0170.mrg"
CHUNK_SENTENCES = 2500

PRETERMINAL = re.compile(r"\(([^\s()]+)\s+([^\s()]+)\)")
Tagged = List[Tuple[str, str]]


def parse_trees(text: str) -> Iterator[str]:
    """The top-level bracketed trees of an .mrg file, one string each."""
    depth, start = 0, 0
    for i, char in enumerate(text):
        if char == "(":
            if depth == 0:
                start = i
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                yield text[start : i + 1]
            if depth < 0:
                raise ValueError("unbalanced brackets")


def tree_tokens(tree: str) -> Tagged:
    """(word, tag) leaves of a tree, without -NONE- traces."""
    return [(word, tag) for tag, word in PRETERMINAL.findall(tree) if tag != "-NONE-"]


def treebank_sentences(zip_path: Path) -> Iterator[Tuple[str, Tagged]]:
    """(file name, tagged sentence) for every tree of the sample, in file order."""
    with zipfile.ZipFile(zip_path) as archive:
        names = sorted(
            n for n in archive.namelist() if n.startswith("treebank/combined/") and n.endswith(".mrg")
        )
        for name in names:
            for tree in parse_trees(archive.read(name).decode("utf8")):
                tokens = tree_tokens(tree)
                if tokens:
                    yield Path(name).name, tokens


def write_gzip(path: Path, text: str) -> None:
    """Gzip with no name or time stamp, so the same input gives the same bytes."""
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
        out.write(text.encode("utf8"))


def wsj_text(sentences: Sequence[Tagged]) -> str:
    return "".join("".join(f"{w}\t{t}\n" for w, t in s) + "\n" for s in sentences)


def first_blocks(path: Path, n: int) -> str:
    """The first `n` blank-line-separated sentences of a CoNLL file, verbatim."""
    blocks = path.read_text(encoding="utf8").split("\n\n")
    blocks = [b.strip("\n") for b in blocks if b.strip()]
    if len(blocks) < n:
        raise ValueError(f"{path} has only {len(blocks)} sentences")
    return "\n\n".join(blocks[:n]) + "\n\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--local-data", type=Path, required=True, help="Folder with the benchmark data.")
    parser.add_argument("--output", type=Path, default=SAMPLE_DIR)
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)

    train, dev = [], []
    for name, tokens in treebank_sentences(args.local_data / TREEBANK_ZIP):
        (train if name <= LAST_POS_TRAIN_FILE else dev).append(tokens)
    write_gzip(args.output / "wsj_sample_train.tsv.gz", wsj_text(train))
    write_gzip(args.output / "wsj_sample_dev.tsv.gz", wsj_text(dev))
    print(f"POS: {len(train)} train / {len(dev)} dev sentences")

    chunk = first_blocks(args.local_data / CONLL2000_TRAIN, CHUNK_SENTENCES)
    write_gzip(args.output / "conll2000_sample.txt.gz", chunk)
    print(f"chunking: {CHUNK_SENTENCES} sentences")


if __name__ == "__main__":
    main()
