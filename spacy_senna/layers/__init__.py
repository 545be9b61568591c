"""Thinc layers of the SENNA networks, one per module."""
from .crf import SentenceLogLikelihood, sll_loss, viterbi_decode
from .embed import SennaFeatureEmbed
from .window import SennaWindow

__all__ = ["SennaFeatureEmbed", "SennaWindow", "SentenceLogLikelihood", "sll_loss", "viterbi_decode"]
