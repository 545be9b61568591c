"""The SENNA components: senna_tagger, senna_chunker, senna_ner, senna_srl, senna_parser."""
from .base import SennaSequencePipe
from .chunker import SennaChunker
from .ner import SennaNER
from .parser import SennaParser
from .srl import SennaSRL
from .tagger import SennaTagger

__all__ = ["SennaSequencePipe", "SennaTagger", "SennaChunker", "SennaNER", "SennaSRL", "SennaParser"]
