"""spacy-senna: SENNA's taggers (Collobert et al., 2011) as spaCy components."""
__version__ = "0.1.0"
