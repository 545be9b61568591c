"""Thinc layers of the SENNA networks, one per module."""
from .attr_embed import SennaAttrEmbed
from .char_embed import SennaCharEmbed
from .crf import SentenceLogLikelihood, sll_loss, viterbi_decode
from .embed import SennaFeatureEmbed
from .gazetteer import SennaGazetteerEmbed
from .levels import SennaLevels
from .sentence import SennaSentence
from .window import SennaWindow
from .with_predicates import with_predicates, with_start_predicate

__all__ = [
    "SennaAttrEmbed",
    "SennaCharEmbed",
    "SennaGazetteerEmbed",
    "SennaLevels",
    "SennaFeatureEmbed",
    "SennaSentence",
    "SennaWindow",
    "SentenceLogLikelihood",
    "sll_loss",
    "viterbi_decode",
    "with_predicates",
    "with_start_predicate",
]
