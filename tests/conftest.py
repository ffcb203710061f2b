import importlib.util
import os
import sys
from pathlib import Path

import pytest

# Tests that run the `licensegate` command (the Gradle plugin's) must run the one installed beside the Python
# running the tests (the README's virtual environment), not another copy elsewhere on PATH.
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")

_spec = importlib.util.spec_from_file_location("fixture_corpus", Path(__file__).with_name("fixture_corpus.py"))
assert _spec is not None and _spec.loader is not None
_fixture_corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixture_corpus)


@pytest.fixture(scope="session")
def corpus() -> Path:
    """Directory of the built fixture corpus (fixtures/build.py); a failed build fails the test."""
    return _fixture_corpus.corpus_dir()
