"""Which inner loops run: the compiled ones (spacy_senna/_kernels.pyx, built by setup.py when
Cython is there) or the numpy code, and whether inference takes its fast paths (the window
network's first layer per distinct token: layers/distinct_window.py). SPACY_SENNA_KERNELS=0
selects the reference code: numpy Viterbi and the plain layer-by-layer prediction."""
import os
from types import ModuleType
from typing import Optional

ENV_VAR = "SPACY_SENNA_KERNELS"


def enabled() -> bool:
    """False when SPACY_SENNA_KERNELS=0 asks for the reference code."""
    return os.environ.get(ENV_VAR, "1").strip() != "0"


def compiled() -> Optional[ModuleType]:
    """The compiled kernels module, or None: not built, or switched off by SPACY_SENNA_KERNELS=0."""
    if not enabled():
        return None
    try:
        from . import _kernels
    except ImportError:
        return None
    return _kernels
