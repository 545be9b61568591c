"""The package version: its one home, read by setup.py (without importing spaCy) and the CLI."""
__version__ = "0.1.0"
