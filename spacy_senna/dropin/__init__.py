"""The `senna` drop-in's command line, input and output, and its lean path (lean.py): none of
these modules imports spaCy or Thinc, so that the drop-in starts in a fraction of the time
`import spacy` takes. main.py runs the lean path when it can and the spaCy path otherwise."""
