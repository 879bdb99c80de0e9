"""Look-ups by name answered from memory (issue 13: a warm ``llm.estimate`` by name): never a stale answer.

A name asked before is answered after a stat of the folders of the search path and of the files its answer
is built from; these tests edit, replace, add and remove those files and expect every change to be seen,
including an edit that keeps the file's size and sets its modification time back (the status-change time
still moves).
"""

from __future__ import annotations

import os

import pytest

from roofline import get_device, library
from roofline.errors import UnknownNameError
from roofline.llm import get_model, list_models, model_library

COMPOSITE = '''
[composition]
part = "toy"
count = { value = 4, basis = "datasheet", source = "s1" }
'''


def _edit_keeping_size_and_mtime(path, old: str, new: str) -> None:
    """Rewrite ``path`` with ``old`` replaced by ``new`` (same length), then set its modification time back."""
    assert len(old) == len(new)
    st = os.stat(path)
    path.write_text(path.read_text().replace(old, new))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(path).st_size == st.st_size


def test_a_name_asked_twice_is_the_same_device(tmp_path, minimal_spec_text):
    (tmp_path / "toy.toml").write_text(minimal_spec_text)
    assert get_device("toy", [tmp_path]) is get_device(" TOY ", [tmp_path])


def test_an_in_place_edit_of_the_same_size_and_time_is_seen(tmp_path, minimal_spec_text):
    spec = tmp_path / "toy.toml"
    spec.write_text(minimal_spec_text)
    assert get_device("toy", [tmp_path]).level("dram").bandwidth_bytes_per_s == 1e12
    _edit_keeping_size_and_mtime(spec, '"1 TB/s"', '"3 TB/s"')
    assert get_device("toy", [tmp_path]).level("dram").bandwidth_bytes_per_s == 3e12


def test_an_edit_of_a_part_is_seen_by_the_device_built_of_it(tmp_path, minimal_spec_text):
    """4 toys of 100 TFLOP/s make a box of 400; a toy of 200 makes a box of 800."""
    toy = tmp_path / "toy.toml"
    toy.write_text(minimal_spec_text)
    box = minimal_spec_text.replace('key = "toy"', 'key = "box"').replace(
        'dense = { value = "100 TFLOP/s", basis = "datasheet", source = "s1" }',
        'dense = { basis = "derived", formula = "composition.count * part.compute.bf16.dense", source = "s1" }')
    (tmp_path / "box.toml").write_text(box + COMPOSITE)
    assert get_device("box", [tmp_path]).figures["compute.bf16.dense"].value == pytest.approx(4e14)
    _edit_keeping_size_and_mtime(toy, '"100 TFLOP/s"', '"200 TFLOP/s"')
    assert get_device("box", [tmp_path]).figures["compute.bf16.dense"].value == pytest.approx(8e14)


def test_a_replaced_file_and_a_removed_file_are_seen(tmp_path, minimal_spec_text):
    spec = tmp_path / "toy.toml"
    spec.write_text(minimal_spec_text)
    get_device("toy", [tmp_path])
    new = tmp_path / "new.tmp"
    new.write_text(minimal_spec_text.replace('"1 TB/s"', '"2 TB/s"'))
    os.replace(new, spec)  # how editors save: a new file renamed over the old one
    assert get_device("toy", [tmp_path]).level("dram").bandwidth_bytes_per_s == 2e12
    spec.unlink()
    with pytest.raises(UnknownNameError):
        get_device("toy", [tmp_path])


def test_a_duplicate_name_added_beside_is_refused(tmp_path, minimal_spec_text):
    """A new file that takes a name already answered from memory makes the library refuse to load, as before."""
    from roofline.errors import SpecError

    (tmp_path / "toy.toml").write_text(minimal_spec_text)
    get_device("toy", [tmp_path])
    (tmp_path / "toy2.toml").write_text(minimal_spec_text)
    with pytest.raises(SpecError, match="duplicate"):
        get_device("toy", [tmp_path])


def test_spec_paths_may_be_a_generator(tmp_path, minimal_spec_text):
    (tmp_path / "toy.toml").write_text(minimal_spec_text)
    assert get_device("toy", (p for p in [tmp_path])).key == "toy"
    assert "toy" in library(p for p in [tmp_path])


def test_the_library_sees_an_in_place_edit_of_any_file(tmp_path, minimal_spec_text):
    spec = tmp_path / "toy.toml"
    spec.write_text(minimal_spec_text)
    assert library([tmp_path])["toy"].level("dram").bandwidth_bytes_per_s == 1e12
    _edit_keeping_size_and_mtime(spec, '"1 TB/s"', '"5 TB/s"')
    assert library([tmp_path])["toy"].level("dram").bandwidth_bytes_per_s == 5e12


# ------------------------------------------------------------------------------------------------------
# models
# ------------------------------------------------------------------------------------------------------
def _my_model(folder, layers: int = 16):
    text = open(get_model("llama-3.1-8b").file).read()
    text = text.replace('key = "llama-3.1-8b"', 'key = "my-llama"').replace("n_layers = 32", f"n_layers = {layers}")
    text = "\n".join(line for line in text.splitlines() if not line.startswith("aliases"))
    path = folder / "my.toml"
    path.write_text(text)
    return path


def test_a_model_name_asked_twice_is_the_same_model_and_any_case_finds_it():
    assert get_model("llama-3.1-70b") is get_model("LLAMA-3.1-70B")
    assert get_model("llama-3.1-70b").n_layers == 80  # Meta's config.json: num_hidden_layers = 80


def test_a_model_file_edited_in_place_is_seen(tmp_path, monkeypatch):
    monkeypatch.setenv("ROOFLINE_MODEL_PATH", str(tmp_path))
    path = _my_model(tmp_path, layers=16)
    assert get_model("my-llama").n_layers == 16
    _edit_keeping_size_and_mtime(path, "n_layers = 16", "n_layers = 24")
    assert get_model("my-llama").n_layers == 24
    assert model_library()["my-llama"].n_layers == 24


def test_a_model_file_added_or_removed_is_seen(tmp_path, monkeypatch):
    monkeypatch.setenv("ROOFLINE_MODEL_PATH", str(tmp_path))
    assert "my-llama" not in {m.key for m in list_models()}
    path = _my_model(tmp_path)
    assert get_model("my-llama").key == "my-llama"
    path.unlink()
    with pytest.raises(UnknownNameError):
        get_model("my-llama")


def test_a_model_name_is_looked_up_as_find_by_name_does(tmp_path):
    """The index agrees with the linear search of :func:`roofline.errors.find_by_name` for every key and
    alias of every shipped model, in any case."""
    from roofline.errors import find_by_name

    models = list(model_library().values())
    for m in models:
        for name in (m.key, *m.aliases):
            for asked in (name, name.upper(), f" {name} "):
                assert get_model(asked) is find_by_name("model", asked, models)


def test_a_look_up_builds_only_its_device_and_the_library_checks_every_file(tmp_path, minimal_spec_text):
    """get_device builds the device asked for (and its part); a unit error in another file is reported by the
    look-up of that device and by library(), naming the file and the field."""
    from roofline.errors import SpecError

    (tmp_path / "toy.toml").write_text(minimal_spec_text)
    (tmp_path / "bad.toml").write_text(minimal_spec_text.replace('key = "toy"', 'key = "bad"')
                                       .replace('"1 TB/s"', '"1 parsec"'))
    assert get_device("toy", [tmp_path]).level("dram").bandwidth_bytes_per_s == 1e12
    with pytest.raises(SpecError, match="bad.toml.*memory"):
        get_device("bad", [tmp_path])
    with pytest.raises(SpecError, match="bad.toml"):
        library([tmp_path])


def test_a_warm_model_file_read_parses_no_toml(tmp_path, monkeypatch):
    """A model file's parsed TOML is cached by its bytes, as a spec file's is; an edit is parsed again."""
    import tomllib

    from roofline.llm import load_model_file

    monkeypatch.setenv("ROOFLINE_CACHE_DIR", str(tmp_path / "cache"))
    path = _my_model(tmp_path, layers=16)
    first = load_model_file(path)

    def refuse(*a, **k):
        raise AssertionError("TOML parsed on a warm read")

    with monkeypatch.context() as mp:
        mp.setattr(tomllib, "loads", refuse)
        assert load_model_file(path) == first
        with pytest.raises(AssertionError, match="parsed on a warm read"):
            _edit_keeping_size_and_mtime(path, "n_layers = 16", "n_layers = 24")
            load_model_file(path)
    assert load_model_file(path).n_layers == 24
