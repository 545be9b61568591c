"""Which inner loops run: the compiled ones (spacy_senna/_kernels.pyx, built by setup.py when
Cython is there) or the numpy code, and whether inference takes its fast paths (the window
network's first layer per distinct token: layers/distinct_window.py). SPACY_SENNA_KERNELS=0
selects the reference code: numpy Viterbi and the plain layer-by-layer prediction."""
import os
from types import ModuleType
from typing import Optional

ENV_VAR = "SPACY_SENNA_KERNELS"
API_VERSION = 2  # _kernels.pyx's API_VERSION: the functions this code calls there


def enabled() -> bool:
    """False when SPACY_SENNA_KERNELS=0 asks for the reference code."""
    return os.environ.get(ENV_VAR, "1").strip() != "0"


def built() -> Optional[ModuleType]:
    """The compiled kernels module when it is built from this version of _kernels.pyx (an
    older build, e.g. left in place by an editable install, has other functions), else None."""
    try:
        from . import _kernels
    except ImportError:
        return None
    return _kernels if getattr(_kernels, "API_VERSION", 1) == API_VERSION else None


def compiled() -> Optional[ModuleType]:
    """The compiled kernels module, or None: not built (or an older build), or switched off by
    SPACY_SENNA_KERNELS=0."""
    return built() if enabled() else None
