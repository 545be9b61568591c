"""The Brown corpus as an auxiliary tagging task: its own tag set, kept in `token._.brown_tag`.

NLTK's tagged Brown (`brown.zip`, or its unzipped folder) holds one file per text
(`brown/ca01` ... `brown/cr09`), one sentence a line as `word/tag` tokens. Its 1.16M words
tagged with the Brown tag set give a multi-task POS model (configs/pos_brown.cfg) supervision
for many words that WSJ's training sections see rarely or never. The tags are not mapped to
the Penn Treebank's: the auxiliary task keeps its own output layer.
"""
import re
import zipfile
from pathlib import Path
from typing import Iterator, List, Tuple, Union

from spacy.tokens import Doc
from spacy.vocab import Vocab

from .readers import SennaFormatError
from .util import ensure_token_extension

BROWN_TAG = "brown_tag"
# Markers of titles, headlines and cited words: about where a word stands, not its part of speech.
TAG_MARKERS = ("-tl", "-hl", "-nc")
TEXT_FILE = re.compile(r"(^|/)c[a-r]\d\d$")

BrownSentence = Tuple[List[str], List[str]]


def simplify_tag(tag: str) -> str:
    """Lower-case a Brown tag and drop its -tl / -hl / -nc markers ('NN-TL' -> 'nn')."""
    tag = tag.lower()
    stripped = True
    while stripped:
        stripped = False
        for marker in TAG_MARKERS:
            if tag.endswith(marker) and len(tag) > len(marker):
                tag = tag[: -len(marker)]
                stripped = True
    return tag


def parse_line(source: str, line_no: int, line: str) -> BrownSentence:
    """Words and simplified tags of one `word/tag word/tag ...` line."""
    words, tags = [], []
    for item in line.split():
        word, slash, tag = item.rpartition("/")
        if not slash or not word or not tag:
            raise SennaFormatError(source, f"token {item!r} is not WORD/TAG", line_no)
        words.append(word)
        tags.append(simplify_tag(tag))
    return words, tags


def read_brown(path: Union[str, Path]) -> Iterator[BrownSentence]:
    """Every sentence of NLTK's tagged Brown: from brown.zip, its folder, or one text file."""
    path = Path(path)
    if not path.exists():
        raise SennaFormatError(path, "file not found")
    for source, lines in _text_files(path):
        for line_no, line in enumerate(lines, start=1):
            if line.strip():
                yield parse_line(source, line_no, line)


def _text_files(path: Path) -> Iterator[Tuple[str, List[str]]]:
    """(name, lines) of each text file: the zip's or folder's cNNN files, or the one file."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                names = sorted(n for n in archive.namelist() if TEXT_FILE.search(n))
                if not names:
                    raise SennaFormatError(path, "no Brown text files (brown/ca01 ...) in the zip")
                for name in names:
                    yield f"{path}:{name}", _decode(f"{path}:{name}", archive.read(name))
        elif path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and TEXT_FILE.search(p.name))
            if not files:
                raise SennaFormatError(path, "no Brown text files (ca01 ...) in the folder")
            for file in files:
                yield str(file), _decode(str(file), file.read_bytes())
        else:
            yield str(path), _decode(str(path), path.read_bytes())
    except (OSError, zipfile.BadZipFile) as err:
        raise SennaFormatError(path, f"cannot read: {err}") from None


def _decode(source: str, data: bytes) -> List[str]:
    try:
        return data.decode("utf-8").splitlines()
    except UnicodeDecodeError as err:
        line_no = data[: err.start].count(b"\n") + 1
        raise SennaFormatError(source, f"not valid UTF-8 (byte 0x{data[err.start]:02x})", line_no) from None


def brown_docs(path: Union[str, Path], vocab: Vocab) -> Iterator[Doc]:
    """One gold Doc per sentence, its Brown tags in `token._.brown_tag` (token.tag_ left empty)."""
    ensure_token_extension(BROWN_TAG)
    for words, tags in read_brown(path):
        doc = Doc(vocab, words=words)
        for token, tag in zip(doc, tags):
            token._.set(BROWN_TAG, tag)
        yield doc
