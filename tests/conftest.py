import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The benchmark data beside the checkout; tests using it skip when it is absent."""
    if not SHARED_DATA.exists():
        pytest.skip("../shared/data is not available")
    return SHARED_DATA


@pytest.fixture(scope="session", autouse=True)
def lean_cache(tmp_path_factory) -> Path:
    """The `senna` drop-in's fast-path exports go to a folder of the test session's (the
    subprocesses the tests start inherit it), never to the user's cache."""
    from spacy_senna.dropin.lean import CACHE_ENV

    folder = tmp_path_factory.mktemp("senna_lean_cache")
    previous = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = previous
