"""The compiled code of a scalar evaluator is kept beside its cache entry (``marshal``), and loaded only from a
private file whose HMAC, made with the cache folder's own key, covers the source it was compiled from; any
other file is ignored, the source compiled again and the file rewritten."""

from __future__ import annotations

import builtins
import marshal

import pytest

from roofline.engine import cache

SOURCE = "def point(a0):\n    return a0 + 1\n"


def _point(code):
    ns: dict = {}
    exec(code, ns)  # noqa: S102 - the test's own source
    return ns["point"]


@pytest.fixture
def folder(tmp_path):
    f = tmp_path / "cache"
    f.mkdir(mode=0o700)
    return f


def test_the_code_is_stored_and_read_back_without_compiling(folder, monkeypatch):
    path = folder / "entry.code"
    assert _point(cache._scalar_code(path, SOURCE, "<t>"))(1.0) == 2.0 and path.exists()

    def refuse(*args, **kw):
        raise AssertionError("compiled again")

    monkeypatch.setattr(builtins, "compile", refuse)
    assert _point(cache._scalar_code(path, SOURCE, "<t>"))(2.0) == 3.0


@pytest.mark.parametrize("change", ["payload", "source", "mode"])
def test_a_tampered_foreign_or_stale_file_is_never_unmarshalled(folder, change):
    path = folder / "entry.code"
    cache._scalar_code(path, SOURCE, "<t>")
    blob = path.read_bytes()
    source = SOURCE
    if change == "payload":  # the signature of the real code, another code object after it
        path.write_bytes(blob[:32] + marshal.dumps(compile("def point(a0):\n    return 666\n", "<t>", "exec")))
    elif change == "source":  # the entry's source changed: the stored code is of another source
        source = "def point(a0):\n    return a0 + 2\n"
    else:  # writable by the group: not a private file
        path.chmod(0o660)
    want = 2.0 if source == SOURCE else 3.0
    assert _point(cache._scalar_code(path, source, "<t>"))(1.0) == want
    if change != "mode":  # rewritten with the code of the source asked for
        assert path.read_bytes() != blob or change == "payload"
