"""The SENNA components: senna_tagger, senna_chunker, senna_ner."""
from .base import SennaSequencePipe
from .chunker import SennaChunker
from .ner import SennaNER
from .tagger import SennaTagger

__all__ = ["SennaSequencePipe", "SennaTagger", "SennaChunker", "SennaNER"]
