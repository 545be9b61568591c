"""Thinc layers of the SENNA networks, one per module."""
from .crf import SentenceLogLikelihood, sll_loss, viterbi_decode
from .embed import SennaFeatureEmbed
from .sentence import SennaSentence
from .window import SennaWindow
from .with_predicates import with_predicates

__all__ = [
    "SennaFeatureEmbed",
    "SennaSentence",
    "SennaWindow",
    "SentenceLogLikelihood",
    "sll_loss",
    "viterbi_decode",
    "with_predicates",
]
