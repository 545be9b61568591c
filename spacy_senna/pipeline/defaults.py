"""Default model configs of the components (the paper's sizes)."""
from .. import architectures, scoring  # noqa: F401  (registers the builders and scorers)
DEFAULT_TAGGER_MODEL = {
    "@architectures": "spacy_senna.WindowTagger.v1",
    "window_size": 5,
    "hidden_width": 300,
    "sentence_level": True,
    "tok2vec": {
        "@architectures": "spacy_senna.SennaEmbed.v1",
        "word_width": 50,
        "caps_width": 5,
        "suffix_width": 5,
        "suffix_length": 2,
        "min_word_freq": 1,
        "max_words": 130000,
        "word_list": None,
        "word_dropout": 0.0,
    },
}

DEFAULT_SRL_MODEL = {
    "@architectures": "spacy_senna.SentenceTagger.v1",
    "conv_width": 300,
    "hidden_width": 500,
    "distance_width": 5,
    "max_distance": 30,
    "sentence_level": True,
    "tok2vec": DEFAULT_TAGGER_MODEL["tok2vec"],
    "predicate_detector": {
        "@architectures": "spacy_senna.WindowTagger.v1",
        "window_size": 5,
        "hidden_width": 100,
        "sentence_level": False,
        "tok2vec": DEFAULT_TAGGER_MODEL["tok2vec"],
    },
}

DEFAULT_PARSER_MODEL = {
    "@architectures": "spacy_senna.LevelParser.v1",
    "window_size": 5,
    "hidden_width": 300,
    "history_width": 10,
    "tok2vec": DEFAULT_TAGGER_MODEL["tok2vec"],
}
