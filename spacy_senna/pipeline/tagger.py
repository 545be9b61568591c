"""senna_tagger: part-of-speech tags (`token.tag_`) from SENNA's window network.

With `extension = "NAME"` the tags are read from and written to `token._.NAME` instead: a
second tag set (e.g. the Brown corpus's, as an auxiliary task in multi-task training) that
does not touch `token.tag_`.
"""
from typing import Callable, Optional

from spacy.language import Language
from spacy.vocab import Vocab
from thinc.api import Model

from ..scoring import score_tags
from ..tasks import POS, TokenTags
from ..util import ensure_token_extension
from .base import SennaSequencePipe
from .defaults import DEFAULT_TAGGER_MODEL


@Language.factory(
    "senna_tagger",
    assigns=["token.tag", "token.pos"],
    default_config={
        "model": DEFAULT_TAGGER_MODEL,
        "scorer": {"@scorers": "spacy_senna.tagger_scorer.v1"},
        "extension": None,
    },
    default_score_weights={"tag_acc": 1.0},
)
def make_tagger(
    nlp: Language, name: str, model: Model, scorer: Optional[Callable], extension: Optional[str]
) -> "SennaTagger":
    return SennaTagger(nlp.vocab, model, name, scorer=scorer, extension=extension)


class SennaTagger(SennaSequencePipe):
    """Assigns `token.tag_` (or `token._.<extension>`); each tag is one output class (no IOBES).

    With `token.tag_` it also sets `token.pos_`: the Universal POS of the Penn Treebank tag
    (`tags.PTB_TO_UPOS`, spaCy's English tag map), none for a tag outside that map."""

    task = POS

    def __init__(
        self, vocab: Vocab, model: Model, name: str = POS.factory, *, scorer=score_tags, extension: Optional[str] = None
    ):
        super().__init__(vocab, model, name, scorer=scorer, annotation=TokenTags(extension))
        self.cfg["extension"] = extension
        if extension:
            ensure_token_extension(extension)

    @property
    def extension(self) -> Optional[str]:
        """The `token._` attribute holding this tagger's tags; None for `token.tag_`."""
        return self.cfg.get("extension")
