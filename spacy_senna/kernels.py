"""Which inner loops run: the compiled ones (spacy_senna/_kernels.pyx, built by setup.py when
Cython is there) or the numpy code. SPACY_SENNA_KERNELS=0 selects the numpy code."""
import os
from types import ModuleType
from typing import Optional

ENV_VAR = "SPACY_SENNA_KERNELS"


def compiled() -> Optional[ModuleType]:
    """The compiled kernels module, or None: not built, or switched off by SPACY_SENNA_KERNELS=0."""
    if os.environ.get(ENV_VAR, "1").strip() == "0":
        return None
    try:
        from . import _kernels
    except ImportError:
        return None
    return _kernels
