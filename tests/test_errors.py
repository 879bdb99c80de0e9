"""Bad input gets one clear line: model files, Hugging Face configs, output paths, options."""

import json

import pytest

import roofline

from roofline.outputs.cli import main
from roofline.errors import SpecError
from roofline.llm import from_hf_config, load_model_file

MODEL = '''
schema = 1
[model]
key = "tiny"
name = "Tiny"
[architecture]
n_layers = 2
d_model = 64
n_heads = 4
n_kv_heads = 2
d_ff = 128
vocab_size = 1000
'''


def test_minimal_model_file_loads(tmp_path):
    p = tmp_path / "tiny.toml"
    p.write_text(MODEL)
    m = load_model_file(p)
    # 2 x (attention 64*64*2 + 2*64*32 ... ) : q,o are 64x64, k,v are 64x32; gated MLP 3 x 64 x 128; 2 norms
    per_layer = 2 * 64 * 64 + 2 * 64 * 32 + 3 * 64 * 128 + 2 * 64
    assert m.total_params() == 2 * 1000 * 64 + 2 * per_layer + 64


@pytest.mark.parametrize("old, new, field, message", [
    ("n_layers = 2\n", "", "architecture.n_layers", "missing"),
    ("n_kv_heads = 2", "n_kv_heads = 3", "architecture.n_kv_heads", "must divide n_heads"),
    ("d_model = 64", "d_model = -64", "architecture.d_model", "expected an integer >= 1"),
    ("vocab_size = 1000", "vocab_size = 1000\nflux = 3", "architecture.flux", "unknown field"),
    ('name = "Tiny"', 'name = ""', "model.name", "missing"),
    ("d_ff = 128", 'd_ff = 128\nmlp = "wide"', "architecture.mlp", "expected 'gated' or 'standard'"),
])
def test_model_file_errors_name_file_and_field(tmp_path, old, new, field, message):
    p = tmp_path / "bad.toml"
    p.write_text(MODEL.replace(old, new))
    with pytest.raises(SpecError) as info:
        load_model_file(p)
    assert str(p) in str(info.value) and field in str(info.value) and message in str(info.value)


def test_model_file_error_on_the_command_line(tmp_path, capsys):
    p = tmp_path / "bad.toml"
    p.write_text(MODEL.replace("n_kv_heads = 2", "n_kv_heads = 3"))
    assert main(["llm", "--model", str(p), "--device", "h100"]) == 2
    err = capsys.readouterr().err
    assert "must divide n_heads" in err and len(err.strip().splitlines()) == 1


def test_hf_config_missing_fields():
    with pytest.raises(SpecError, match="missing from config.json"):
        from_hf_config({"hidden_size": 4096})


def test_unreadable_model_file(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("{broken")
    with pytest.raises(SpecError, match="cannot read model file"):
        load_model_file(p)


@pytest.mark.parametrize("argv, message", [
    (["sweep", "--model", "llama-3.1-8b", "--device", "h100", "--out", "grid.xlsx"], ".csv or .parquet"),
    (["sweep", "--model", "llama-3.1-8b", "--device", "h100", "--plot", "/no/such/folder/x.png"], "no folder"),
    (["plot", "memory-wall", "--out", "wall.jpg"], ".png, .svg or .pdf"),
    (["plot", "sweep", "--model", "llama-3.1-8b", "--device", "h100", "--y", "speed", "--out", "x.png"], "no column 'speed'"),
    (["plot", "frontier", "9xh1000", "--model", "llama-3.1-8b", "--out", "x.png"], "did you mean 'h100'"),
    (["compare", "h100", "h100-sxm"], "different devices"),
    (["llm", "--model", "llama-3.1-8b", "--device", "h100", "--overlap", "partial"], "invalid choice"),
    (["models", "--model-path", "/no/such/models"], "no such model file or folder"),
    (["list", "--spec", "/no/such/spec.toml"], "no such spec file or folder"),
    (["show"], "required"),
    (["frobnicate"], "invalid choice"),
])
def test_cli_user_errors_are_one_line(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_version_and_help(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == roofline.__version__
    assert main([]) == 0
    assert "compare" in capsys.readouterr().out


def test_show_json_of_an_estimate_device_gives_ranges(capsys):
    assert main(["show", "ai5", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    bf16 = d["compute"]["bf16"]
    lo, hi = bf16["dense_flops_per_s_range"]
    assert lo < bf16["dense_flops_per_s"] < hi
    assert d["status"] == "unreleased"
