"""The compiled code of a scalar evaluator is kept in the private cache folder (``marshal``), named by the hash
of the interpreter's bytecode magic, the file name and the source, and loaded only from a private file whose
HMAC, made with the cache folder's own key, covers it; any other file is ignored, the source compiled again
and the file rewritten."""

from __future__ import annotations

import builtins
import marshal

import pytest

from roofline.engine.codecache import cached_code

SOURCE = "def point(a0):\n    return a0 + 1\n"


def _point(code):
    ns: dict = {}
    exec(code, ns)  # noqa: S102 - the test's own source
    return ns["point"]


@pytest.fixture
def folder(tmp_path, monkeypatch):
    f = tmp_path / "cache"
    f.mkdir(mode=0o700)
    monkeypatch.setenv("ROOFLINE_CACHE_DIR", str(f))
    return f


def _entry(folder):
    (path,) = folder.glob("code-*.bin")
    return path


def test_the_code_is_stored_and_read_back_without_compiling(folder, monkeypatch):
    assert _point(cached_code(SOURCE, "<t>"))(1.0) == 2.0 and _entry(folder).exists()

    def refuse(*args, **kw):
        raise AssertionError("compiled again")

    monkeypatch.setattr(builtins, "compile", refuse)
    assert _point(cached_code(SOURCE, "<t>"))(2.0) == 3.0


@pytest.mark.parametrize("change", ["payload", "mode"])
def test_a_tampered_or_foreign_file_is_never_unmarshalled(folder, change):
    cached_code(SOURCE, "<t>")
    path = _entry(folder)
    blob = path.read_bytes()
    if change == "payload":  # the signature of the real code, another code object after it
        path.write_bytes(blob[:32] + marshal.dumps(compile("def point(a0):\n    return 666\n", "<t>", "exec")))
    else:  # writable by the group: not a private file
        path.chmod(0o660)
    assert _point(cached_code(SOURCE, "<t>"))(1.0) == 2.0
    assert path.stat().st_mode & 0o077 == 0 or change == "mode"


def test_another_source_is_another_file(folder):
    cached_code(SOURCE, "<t>")
    assert _point(cached_code("def point(a0):\n    return a0 + 2\n", "<t>"))(1.0) == 3.0
    assert len(list(folder.glob("code-*.bin"))) == 2
