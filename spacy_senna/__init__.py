"""spacy-senna: SENNA's taggers (Collobert et al., 2011) as spaCy components."""
from .about import __version__  # noqa: F401
