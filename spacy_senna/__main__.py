"""`python -m spacy_senna ...` runs the command-line interface; `python -m spacy_senna tag` runs
the SENNA drop-in without importing the other commands (nor spaCy, when its lean path can run)."""
import sys

if __name__ == "__main__":
    if sys.argv[1:2] == ["tag"]:
        from .dropin.main import main as tag_main

        sys.exit(tag_main(sys.argv[2:]))
    from .cli import main

    main()
