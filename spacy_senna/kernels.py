"""Which inner loops run: the compiled ones (spacy_senna/_kernels.pyx, built by setup.py when
Cython is there) or the numpy code, and whether inference takes its fast paths (the window
network's first layer per distinct token: layers/distinct_window.py). SPACY_SENNA_KERNELS=0
selects the reference code: numpy Viterbi and the plain layer-by-layer prediction."""
import os
import warnings
from types import ModuleType
from typing import Optional

ENV_VAR = "SPACY_SENNA_KERNELS"
# what the code calls; a build without one is stale
KERNELS = ("viterbi_flat", "sll_forward_backward", "window_sums", "hash_strings", "split_window_sums", "unit_sums")


def enabled() -> bool:
    """False when SPACY_SENNA_KERNELS=0 asks for the reference code."""
    return os.environ.get(ENV_VAR, "1").strip() != "0"


def built() -> Optional[ModuleType]:
    """The compiled kernels module, or None: not built, or built from an older source (with a
    warning). SPACY_SENNA_KERNELS=0 does not matter here (see `compiled`)."""
    try:
        from . import _kernels
    except ImportError:
        return None
    missing = [name for name in KERNELS if not hasattr(_kernels, name)]
    if missing:
        warnings.warn(
            f"{_kernels.__file__} was built from an older _kernels.pyx (no {', '.join(missing)}): "
            "running the numpy code; rebuild it (pip install -e . or python setup.py build_ext --inplace)"
        )
        return None
    return _kernels


def compiled() -> Optional[ModuleType]:
    """The compiled kernels module, or None: not built, built from an older source (with a
    warning), or switched off by SPACY_SENNA_KERNELS=0."""
    return built() if enabled() else None
