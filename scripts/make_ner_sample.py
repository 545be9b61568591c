"""Generate the NER part of the embedded sample: invented sentences in the CoNLL-2003 format.

No Reuters (CoNLL-2003) text is used: every sentence comes from the templates below, filled
with names from this project's own lists of people, places, organisations and other names
(MISC: nationalities, events, languages). The output has CoNLL-2003's columns and tagging:
`WORD POS CHUNK NE`, IOB1 in both tag columns, a `-DOCSTART- -X- -X- O` line before each
document. Part of every name list is kept for the dev file only, so the dev score shows
whether the model recognises names it never saw in training.

    python scripts/make_ner_sample.py            # writes assets/sample/ner_sample_{train,dev}.txt.gz
"""
import argparse
import random
import re
import sys
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from spacy_senna.tags import spans_to_tags  # noqa: E402
from make_sample import write_gzip  # noqa: E402  (scripts/ is this script's own folder)

SAMPLE_DIR = ROOT / "assets" / "sample"

# A template is a sequence of chunks "[LABEL word/POS ...]" and loose "word/POS" tokens;
# {SLOT} stands for one filler (one or more tokens) from the lists below.
TEMPLATES = [
    "[NP {PER}] [VP said/VBD] [PP on/IN] [NP {DAY}] [SBAR that/IN] [NP {ORG}] [VP would/MD open/VB] [NP a/DT new/JJ office/NN] [PP in/IN] [NP {LOC}] ./.",
    "[NP {PER}] ,/, [NP the/DT chief/JJ executive/NN] [PP of/IN] [NP {ORG}] ,/, [VP arrived/VBD] [PP in/IN] [NP {LOC}] [PP on/IN] [NP {DAY}] ./.",
    "[NP {ORG}] [VP reported/VBD] [NP a/DT profit/NN] [PP of/IN] [NP {NUM} million/CD dollars/NNS] [PP for/IN] [NP the/DT year/NN] ./.",
    "[NP The/DT {MISC_ADJ} team/NN] [VP beat/VBD] [NP {LOC}] [NP {NUM}-{NUM2}/CD] [PP in/IN] [NP {LOC}] ./.",
    "[NP {PER}] [VP scored/VBD] [NP twice/RB] [SBAR as/IN] [NP {ORG}] [VP won/VBD] [NP the/DT final/JJ] [PP in/IN] [NP {LOC}] ./.",
    "[NP Police/NNS] [PP in/IN] [NP {LOC}] [VP said/VBD] [NP {PER}] [VP was/VBD arrested/VBN] [PP on/IN] [NP {DAY}] ./.",
    "[NP {PER}] [VP will/MD travel/VB] [PP to/TO] [NP {LOC}] [PP for/IN] [NP talks/NNS] [PP with/IN] [NP {PER}] ./.",
    "[NP Shares/NNS] [PP in/IN] [NP {ORG}] [VP rose/VBD] [NP {NUM} percent/NN] [PP in/IN] [NP {LOC}] [NP {DAY}] ./.",
    "[NP The/DT {MISC_EVENT}] [VP will/MD be/VB held/VBN] [PP in/IN] [NP {LOC}] [NP next/JJ year/NN] ./.",
    "[NP {PER}] [VP told/VBD] [NP {ORG}] [SBAR that/IN] [NP the/DT {MISC_ADJ} government/NN] [VP had/VBD agreed/VBN] [PP to/TO] [NP the/DT plan/NN] ./.",
    "[NP {ORG}] [VP signed/VBD] [NP a/DT deal/NN] [PP with/IN] [NP {ORG}] [PP in/IN] [NP {LOC}] ./.",
    "[NP {PER}] [VP speaks/VBZ] [NP {MISC_LANG}] and/CC [VP lives/VBZ] [PP in/IN] [NP {LOC}] ./.",
    "[PP In/IN] [NP {LOC}] ,/, [NP {PER}] [VP opened/VBD] [NP the/DT {MISC_EVENT}] [PP with/IN] [NP a/DT speech/NN] ./.",
    "[NP {PER}] [VP joined/VBD] [NP {ORG}] [PP as/IN] [NP a/DT consultant/NN] [PP in/IN] [NP {MONTH}] ./.",
    "[NP The/DT minister/NN] [PP from/IN] [NP {LOC}] [VP met/VBD] [NP {PER}] [PP at/IN] [NP the/DT {MISC_EVENT}] ./.",
    "[NP {ORG}] [VP said/VBD] [NP it/PRP] [VP would/MD cut/VB] [NP {NUM} jobs/NNS] [PP in/IN] [NP {LOC}] ./.",
    "[NP {PER}] [VP was/VBD born/VBN] [PP in/IN] [NP {LOC}] [PP in/IN] [NP {YEAR}/CD] ./.",
    "[NP A/DT {MISC_ADJ} court/NN] [VP fined/VBD] [NP {ORG}] [NP {NUM} million/CD euros/NNS] [PP on/IN] [NP {DAY}] ./.",
    "[NP {PER}] ,/, [NP who/WP] [VP coaches/VBZ] [NP {ORG}] ,/, [VP praised/VBD] [NP the/DT {MISC_ADJ} players/NNS] ./.",
    "[NP Mr./NNP {LAST}] [VP declined/VBD] [VP to/TO comment/VB] [PP on/IN] [NP the/DT report/NN] [PP by/IN] [NP {ORG}] ./.",
    "[NP Ms./NNP {LAST}] [VP flew/VBD] [PP from/IN] [NP {LOC}] [PP to/TO] [NP {LOC}] [PP on/IN] [NP {DAY}] ./.",
    "[NP {ORG}] [VP has/VBZ] [NP offices/NNS] [PP in/IN] [NP {LOC}] ,/, [NP {LOC}] and/CC [NP {LOC}] ./.",
    "[NP {PER}] [VP finished/VBD] [NP second/JJ] [PP at/IN] [NP the/DT {MISC_EVENT}] [PP behind/IN] [NP {PER}] ./.",
    "[NP {MISC_ADJ}/JJ officials/NNS] [VP said/VBD] [NP talks/NNS] [PP with/IN] [NP {ORG}] [VP would/MD resume/VB] [PP in/IN] [NP {MONTH}] ./.",
    "[NP The/DT company/NN] [VP was/VBD founded/VBN] [PP by/IN] [NP {PER}] [PP in/IN] [NP {LOC}] ./.",
    "[NP {PER}] [VP leads/VBZ] [NP the/DT {MISC_ADJ} delegation/NN] [PP to/TO] [NP {LOC}] ./.",
    "[NP {ORG}] [VP bought/VBD] [NP a/DT stake/NN] [PP in/IN] [NP {ORG}] [PP for/IN] [NP {NUM} million/CD pounds/NNS] ./.",
    "[NP Fans/NNS] [PP of/IN] [NP {ORG}] [VP gathered/VBD] [PP in/IN] [NP {LOC}] [PP before/IN] [NP the/DT match/NN] ./.",
    "[NP {PER}] [VP said/VBD] [NP the/DT weather/NN] [PP in/IN] [NP {LOC}] [VP was/VBD] [ADJP cold/JJ] ./.",
    "[NP {LOC}] [VP exported/VBD] [NP more/JJR grain/NN] [PP to/TO] [NP {LOC}] [PP in/IN] [NP {YEAR}/CD] ./.",
    "[NP The/DT {MISC_ADJ} actor/NN {PER}] [VP won/VBD] [NP an/DT award/NN] [PP at/IN] [NP the/DT {MISC_EVENT}] ./.",
    "[NP Students/NNS] [PP at/IN] [NP {ORG}] [VP study/VBP] [NP {MISC_LANG}] and/CC [NP history/NN] ./.",
    "[NP {PER}] [VP replaced/VBD] [NP {PER}] [PP as/IN] [NP head/NN] [PP of/IN] [NP {ORG}] ./.",
    "[NP Rain/NN] [VP delayed/VBD] [NP the/DT game/NN] [PP between/IN] [NP {ORG}] and/CC [NP {ORG}] ./.",
    "[NP The/DT price/NN] [PP of/IN] [NP bread/NN] [PP in/IN] [NP {LOC}] [VP rose/VBD] [PP on/IN] [NP {DAY}] ./.",
    "[NP {PER}] [VP thanked/VBD] [NP the/DT people/NNS] [PP of/IN] [NP {LOC}] ./.",
]

# Name lists: (tokens, POS) fillers. All invented or common words; none from a corpus.
FIRST = [
    "Anna", "Paolo", "Maria", "Kenji", "Amara", "Lars", "Sofia", "Tomasz", "Leila", "Hugo",
    "Ines", "Rafael", "Chen", "Olga", "Samuel", "Nadia", "Pieter", "Yusuf", "Clara", "Diego",
    "Mei", "Arjun", "Helga", "Omar", "Lucia", "Ivan", "Grace", "Malik", "Elena", "Bruno",
    "Freya", "Tariq", "Zofia", "Marco", "Aisha", "Henrik", "Rosa", "Felix", "Noor", "Jonas",
]
LAST = [
    "Berg", "Rossi", "Okafor", "Tanaka", "Lindqvist", "Moreau", "Novak", "Haddad", "Silva",
    "Kowalski", "Jansen", "Demir", "Fischer", "Costa", "Ivanova", "Mensah", "Dubois", "Kumar",
    "Larsen", "Petrov", "Alvarez", "Nakamura", "Hughes", "Brennan", "Osei", "Varga", "Keller",
    "Romano", "Sato", "Nilsen", "Ortega", "Baptiste", "Kaur", "Lindgren", "Mwangi", "Horvath",
    "Weber", "Castillo", "Ahmed", "Quinn",
]
PLACES = [
    "Lisbon", "Oslo", "Nairobi", "Kyoto", "Lima", "Bergen", "Porto", "Accra", "Krakow",
    "Valencia", "Hamburg", "Dublin", "Quito", "Tunis", "Riga", "Geneva", "Adelaide", "Bologna",
    "Canada", "Chile", "Norway", "Kenya", "Portugal", "Japan", "Ireland", "Peru", "Ghana",
    "Finland", "Poland", "Morocco", "New Zealand", "South Africa", "Costa Rica", "Sri Lanka",
    "New Delhi", "Buenos Aires", "Cape Town", "Hong Kong", "San Diego", "Rio de Janeiro",
]
ORG_HEADS = [
    "Harbor", "Kestrel", "Northwind", "Silverline", "Bluefield", "Redstone", "Westgate",
    "Summit", "Greenway", "Ironbridge", "Clearwater", "Highland", "Meridian", "Oakridge",
    "Sunrise", "Falcon", "Granite", "Lakeside", "Pioneer", "Crescent",
]
ORG_TAILS = [
    "Bank", "Airlines", "Group", "Motors", "Energy", "Telecom", "United", "Rovers",
    "Insurance", "Foods", "Partners", "Institute", "University", "Holdings", "Press",
]
NATIONALITIES = [
    "French", "Kenyan", "Brazilian", "Japanese", "Norwegian", "Polish", "Chilean", "Irish",
    "Italian", "Ghanaian", "Finnish", "Peruvian", "Moroccan", "Canadian", "Portuguese",
    "Dutch", "Swedish", "Turkish", "Mexican", "Korean",
]
EVENTS = [
    "World Cup", "Olympic Games", "Winter Games", "Tour de France", "Nobel Prize",
    "Film Festival", "Asian Cup", "Book Fair", "Jazz Festival", "Davis Cup",
]
EVENT_POS = {"de": "IN"}
LANGUAGES = ["Spanish", "Swahili", "Japanese", "Polish", "Arabic", "Finnish", "Greek", "Hindi", "Dutch", "Korean"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "March", "April", "June", "July", "September", "October", "December"]

Token = Tuple[str, str, str, str]  # word, POS, chunk tag (IOB1), NE tag (IOB1)


def split_names(names: Sequence[str], rng: random.Random, dev_share: float) -> Dict[str, List[str]]:
    """Shuffle a list and keep its first part for the dev file only (the rest for training)."""
    names = list(names)
    rng.shuffle(names)
    n_dev = max(1, round(len(names) * dev_share))
    return {"dev": names[:n_dev], "train": names[n_dev:]}


class Filler:
    """Draws the slot fillers of one split (train or dev)."""

    def __init__(self, rng: random.Random, lists: Dict[str, Dict[str, List[str]]], split: str):
        self.rng = rng
        self.lists = {key: value[split] for key, value in lists.items()}

    def pick(self, key: str) -> str:
        return self.rng.choice(self.lists[key])

    def fill(self, slot: str) -> Tuple[List[Tuple[str, str]], str]:
        """(tokens with POS, NE label or '') for a slot name."""
        if slot == "PER":
            if self.rng.random() < 0.2:
                return [(self.pick("LAST"), "NNP")], "PER"
            return [(self.pick("FIRST"), "NNP"), (self.pick("LAST"), "NNP")], "PER"
        if slot == "LAST":
            return [(self.pick("LAST"), "NNP")], "PER"
        if slot == "LOC":
            return [(w, "IN" if w == "de" else "NNP") for w in self.pick("PLACES").split()], "LOC"
        if slot == "ORG":
            n_heads = 2 if self.rng.random() < 0.25 else 1
            words = self.rng.sample(self.lists["ORG_HEADS"], n_heads) + [self.pick("ORG_TAILS")]
            return [(w, "NNP") for w in words], "ORG"
        if slot == "MISC_ADJ":
            return [(self.pick("NATIONALITIES"), "JJ")], "MISC"
        if slot == "MISC_LANG":
            return [(self.pick("LANGUAGES"), "NNP")], "MISC"
        if slot == "MISC_EVENT":
            return [(w, EVENT_POS.get(w, "NNP")) for w in self.pick("EVENTS").split()], "MISC"
        if slot == "DAY":
            return [(self.rng.choice(DAYS), "NNP")], ""
        if slot == "MONTH":
            return [(self.rng.choice(MONTHS), "NNP")], ""
        if slot in ("NUM", "NUM2"):
            return [(str(self.rng.randint(1, 9 if slot == "NUM2" else 90)), "CD")], ""
        if slot == "YEAR":
            return [(str(self.rng.randint(1950, 2009)), "CD")], ""
        raise ValueError(f"unknown slot {slot}")


TOKEN_RE = re.compile(r"\[([A-Z]+)|\]|[^\s\[\]]+")
SLOT_RE = re.compile(r"\{([A-Z_0-9]+)\}")


def realise(template: str, filler: Filler) -> List[Token]:
    """One sentence from a template: fill the slots, then tag chunks and entities in IOB1."""
    words: List[Tuple[str, str]] = []
    chunks: List[Tuple[int, int, str]] = []
    entities: List[Tuple[int, int, str]] = []
    open_chunk = None
    for match in TOKEN_RE.finditer(template):
        text = match.group(0)
        if match.group(1):
            open_chunk = (len(words), match.group(1))
        elif text == "]":
            chunks.append((open_chunk[0], len(words), open_chunk[1]))
            open_chunk = None
        else:
            slot = SLOT_RE.fullmatch(text.split("/")[0]) if "/" in text else SLOT_RE.fullmatch(text)
            if slot is None and "{" in text:  # a filled token with its own tag: "{NUM}-{NUM2}/CD"
                word, pos = text.rsplit("/", 1)
                word = SLOT_RE.sub(lambda m: filler.fill(m.group(1))[0][0][0], word)
                words.append((word, pos))
            elif slot is not None:
                tokens, label = filler.fill(slot.group(1))
                if "/" in text:  # the template overrides the filler's POS
                    tokens = [(w, text.rsplit("/", 1)[1]) for w, _ in tokens]
                if label:
                    entities.append((len(words), len(words) + len(tokens), label))
                words.extend(tokens)
            else:
                word, pos = text.rsplit("/", 1)
                words.append((word, pos))
    chunk_tags = spans_to_tags(chunks, len(words), "iob1")
    ne_tags = spans_to_tags(entities, len(words), "iob1")
    return [(w, p, c, n) for (w, p), c, n in zip(words, chunk_tags, ne_tags)]


def generate(n_sentences: int, filler: Filler, rng: random.Random) -> str:
    """CoNLL-2003 text: documents of 5 to 12 sentences, each after a -DOCSTART- line."""
    lines: List[str] = []
    left_in_doc = 0
    for _ in range(n_sentences):
        if left_in_doc == 0:
            lines += ["-DOCSTART- -X- -X- O", ""]
            left_in_doc = rng.randint(5, 12)
        lines += [" ".join(token) for token in realise(rng.choice(TEMPLATES), filler)] + [""]
        left_in_doc -= 1
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=SAMPLE_DIR)
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--n-dev", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    named = {
        "FIRST": FIRST, "LAST": LAST, "PLACES": PLACES, "ORG_HEADS": ORG_HEADS,
        "ORG_TAILS": ORG_TAILS, "NATIONALITIES": NATIONALITIES, "EVENTS": EVENTS,
        "LANGUAGES": LANGUAGES,
    }
    lists = {key: split_names(names, rng, 0.25) for key, names in named.items()}
    args.output.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", args.n_train), ("dev", args.n_dev)):
        text = generate(n, Filler(rng, lists, split), rng)
        write_gzip(args.output / f"ner_sample_{split}.txt.gz", text)
        print(f"{split}: {n} sentences")


if __name__ == "__main__":
    main()
