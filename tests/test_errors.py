"""Bad input gets one clear line: model files, Hugging Face configs, output paths, options."""

import io
import json
import sys

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


# ------------------------------------------------------------------------------------------------------
# issue 12: every ordinary mistake is one line on stderr and exit 2, never a traceback
# ------------------------------------------------------------------------------------------------------
def one_line_error(capsys, argv, code=2):
    assert main(argv) == code
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    return err


@pytest.mark.parametrize("argv, message", [
    # numbers the shell passes on that no count can be (OverflowError, negative batch, 2**63 wrap-around)
    (["gemm", "--device", "h100", "--m", "inf", "--n", "1", "--k", "1"], "positive integer"),
    (["gemm", "--device", "h100", "--m", "nan", "--n", "1", "--k", "1"], "positive integer"),
    (["gemm", "--device", "h100", "--m", "1e400", "--n", "1", "--k", "1"], "positive integer"),
    (["gemm", "--device", "h100", "--m", "1e300", "--n", "1e300", "--k", "1e300"], "at most 2**53"),
    (["llm", "--model", "llama-3.1-8b", "--device", "h100", "--batch", "1.5"], "positive integer"),
    (["sweep", "--model", "llama-3.1-8b", "--device", "h100", "--batch", "1e30"], "at most 2**53"),
    (["sweep", "--model", "llama-3.1-8b", "--device", "h100", "--batch", "inf"], "positive integers"),
    (["sweep", "--model", "llama-3.1-8b", "--device", "h100", "--batch", "1,2.5"], "positive integers"),
    (["sweep", "--model", "llama-3.1-8b", "--device", "h100", "--context", "1:1e30"], "positive integers"),
    # a grid axis that would fill memory before anything is computed
    (["sweep", "--model", "llama-3.1-8b", "--device", "h100", "--batch", "1:100:1000000000"], "more than 1,000,000"),
    (["sweep", "--model", "llama-3.1-8b", "--device", "h100", "--batch", "1:1000000000000:+1"], "more than 1,000,000"),
    # file names that are no file names
    (["sweep", "--model", "llama-3.1-8b", "--device", "h100", "--out", ""], "expected a file name"),
    (["sweep", "--model", "llama-3.1-8b", "--device", "h100", "--out", "/nodir/x.csv"], "no folder '/nodir'"),
    (["sweep", "--model", "llama-3.1-8b", "--device", "h100", "--plot", ""], "expected a file name"),
    (["compare", "h100", "a100", "--plot", " "], "expected a file name"),
    (["plot", "memory-wall", "--out", ""], "expected a file name"),
    (["validate", "--data", ""], "expected a file name"),
    (["validate", "--data", "nope.csv"], "nope.csv: cannot read the measurement file (No such file"),
    (["list", "--spec", ""], "expected a file name"),
    (["models", "--model-path", ""], "expected a file name"),
    # --spec is honoured by every command that takes it: a wrong path is refused, not ignored
    (["models", "--spec", "/no/such/spec.toml"], "no such spec file or folder"),
    (["validate", "--spec", "/no/such/spec.toml"], "no such spec file or folder"),
    (["validate", "--model-path", "/no/such/models"], "no such model file or folder"),
])
def test_ordinary_mistakes_are_one_line(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    err = one_line_error(capsys, argv)
    assert message in err, err


def test_output_file_that_is_a_folder(tmp_path, capsys):
    (tmp_path / "grid.csv").mkdir()
    err = one_line_error(capsys, ["sweep", "--model", "llama-3.1-8b", "--device", "h100",
                                  "--out", str(tmp_path / "grid.csv")])
    assert "it is a folder" in err


def test_validate_data_given_a_folder(tmp_path, capsys):
    err = one_line_error(capsys, ["validate", "--data", str(tmp_path)])
    assert "cannot read the measurement file (it is a folder)" in err


def test_validate_data_not_utf8(tmp_path, capsys):
    p = tmp_path / "m.csv"
    p.write_bytes("id,category\n".encode("utf-16"))
    err = one_line_error(capsys, ["validate", "--data", str(p)])
    assert "not UTF-8" in err


def test_llm_batch_that_fits_nothing_says_what_fits(capsys):
    # Llama-3.1-8B (32 layers, 8 KV heads of 128, bf16) on H100s: tensor parallelism stays inside the
    # 8-GPU NVLink domain and a stage needs a layer, so at most 8 x 32 = 256 GPUs of 80 GB = 20.48 TB.
    # KV cache per sequence at context 2048: 2 (K,V) x 8 x 128 x 2 B x 32 layers x 2048 = 268,435,456 B.
    # Upper bound: (20.48e12 - 16.06e9 weights) / 268,435,456 = 76,234.9 sequences.
    # Lower bound: the fullest GPU also holds 1/8 of the embedding and lm_head (128,256 x 4096 x 2 B each)
    # besides 1/256 of the other 15.0e9 B: (80e9 - 58.6e6 - 262.7e6) / (268,435,456 / 256) = 75,987.
    err = one_line_error(capsys, ["llm", "--model", "llama-3.1-8b", "--device", "h100", "--batch", "100000000"])
    assert "fits no layout" in err
    import re

    fits = int(re.search(r"at most batch ([\d,]+) fits at context 2,048", err).group(1).replace(",", ""))
    assert 75_987 <= fits <= 76_234


def test_forced_layout_that_does_not_fit_says_what_fits(capsys):
    # 8B on one 80 GB H100: (80e9 - 16.06e9) / 268,435,456 B per sequence at 2048 = 238.2 sequences
    err = one_line_error(capsys, ["llm", "--model", "llama-3.1-8b", "--device", "h100", "--devices", "1",
                                  "--batch", "1000"])
    assert "at most batch 238 fits at context 2,048 on 1 h100" in err


@pytest.mark.parametrize("old, new, field, message", [
    ("schema = 1", "schema = true", "schema", "expected 1"),
    ("schema = 1", "schema = 1.0", "schema", "expected 1"),
    ("domain_size = { value = 8,", "domain_size = { value = 8.5,", "interconnect.link.domain_size",
     "expected a whole number"),
    ("domain_size = { value = 8,", 'domain_size = { value = "8.5",', "interconnect.link.domain_size",
     "expected a whole number"),
    ('name = "Toy accelerator"', 'name = "Toy \\u001b[2J\\u001b[31mRED"', "device.name", "printable text"),
    ('name = "Toy accelerator"', 'name = "Toy \\u202eRED"', "device.name", "printable text"),
    ('year = 2024', 'year = 2024\naliases = ["t\\u0007y"]', "device.aliases", "printable text"),
])
def test_spec_file_refusals(capsys, write_spec, minimal_spec_text, old, new, field, message):
    assert old in minimal_spec_text
    p = write_spec(minimal_spec_text.replace(old, new))
    err = one_line_error(capsys, ["show", "toy", "--spec", str(p)])
    assert str(p) in err and field in err and message in err, err


def test_model_file_schema_true_is_refused(tmp_path, capsys):
    p = tmp_path / "tiny.toml"
    p.write_text(MODEL.replace("schema = 1", "schema = true"))
    err = one_line_error(capsys, ["llm", "--model", str(p), "--device", "h100"])
    assert "schema" in err and "expected 1" in err


# ------------------------------------------------------------------------------------------------------
# measurement files: counts are never truncated; --spec and --model-path reach the devices and models
# ------------------------------------------------------------------------------------------------------
def _measurements(tmp_path, **row):
    from roofline.validation.bounds import FIELDS

    base = dict.fromkeys(FIELDS, "")
    base.update(id="toy-copy", category="membw", device="toy", device_count="1", speculative="false",
                metric="bandwidth_bytes_per_s", value="5e12", unit="B/s", source_title="a test",
                source_url="https://example.invalid/m")
    base.update(row)
    p = tmp_path / "m.csv"
    import csv

    with open(p, "w", newline="") as fh:
        w = csv.DictWriter(fh, FIELDS)
        w.writeheader()
        w.writerow(base)
    return p


@pytest.mark.parametrize("column, value, message", [
    ("device_count", "1.5", "expected a whole number from 1 to 2**53"),
    ("batch", "0", "expected a whole number from 1 to 2**53"),
    ("batch", "inf", "expected a whole number from 1 to 2**53"),
    ("value", "nan", "expected a positive finite number"),
    ("value", "-3", "expected a positive finite number"),
])
def test_measurement_file_refusals(tmp_path, capsys, column, value, message):
    p = _measurements(tmp_path, **{column: value})
    err = one_line_error(capsys, ["validate", "--data", str(p)])
    assert f"line 2: {column}" in err and message in err, err


def test_validate_honours_spec_and_model_paths(tmp_path, capsys, write_spec, minimal_spec_text):
    spec = write_spec(minimal_spec_text)
    # a STREAM copy at 5 TB/s on the toy, whose main memory (its SRAM, the fastest level that is not a
    # cache) has a 10 TB/s datasheet bandwidth: efficiency 5 / 10 = 0.5
    p = _measurements(tmp_path)
    assert main(["validate", "--data", str(p), "--spec", str(spec), "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["bound_ideal"] == 10e12 and row["efficiency_ideal"] == pytest.approx(0.5)
    # the same file without --spec: the device is unknown
    assert "unknown device 'toy'" in one_line_error(capsys, ["validate", "--data", str(p)])
    # an LLM row naming a model from --model-path: 'tiny' is found, and its estimate gives a bound
    m = tmp_path / "models"
    m.mkdir()
    (m / "tiny.toml").write_text(MODEL)
    p = _measurements(tmp_path, category="llm-decode", device="h100", model="tiny", batch="1", context="128",
                      metric="tokens_per_s_per_user", value="100", unit="tokens/s")
    assert main(["validate", "--data", str(p), "--model-path", str(m), "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["bound_ideal"] > 100 and "error" not in row


# ------------------------------------------------------------------------------------------------------
# the terminal: control characters escaped, ASCII spellings where the encoding lacks a symbol
# ------------------------------------------------------------------------------------------------------
def _ascii_streams(monkeypatch):
    out = io.TextIOWrapper(io.BytesIO(), encoding="ascii", newline="\n")
    err = io.TextIOWrapper(io.BytesIO(), encoding="ascii", newline="\n")
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)

    def read(stream):
        stream.flush()
        return stream.buffer.getvalue().decode("ascii")

    return lambda: (read(out), read(err))


def test_an_ascii_terminal_gets_ascii_spellings(monkeypatch):
    read = _ascii_streams(monkeypatch)
    # the title is 'GEMM 1x8192x8192 ... on NVIDIA H100' with a multiplication sign, times in microseconds
    assert main(["gemm", "--device", "h100", "--m", "1", "--n", "8192", "--k", "8192"]) == 0
    assert main(["show", "h100"]) == 0                       # 'NVIDIA H100 SXM5 80 GB (h100) - NVIDIA, ...'
    assert main(["gemm", "--help"]) == 0                     # 'C[M,N] = A[M,K]*B[K,N]'
    out, err = read()
    assert "GEMM 1x8192x8192 bf16" in out and " us" in out and "(h100) - NVIDIA" in out and "A[M,K]*B[K,N]" in out
    assert err == ""


def test_an_ascii_terminal_gets_one_line_errors(monkeypatch):
    read = _ascii_streams(monkeypatch)
    assert main(["show", "h\u00fc100"]) == 2
    out, err = read()
    assert out == "" and err.startswith("roofline: error: unknown device 'hu100'") and err.count("\n") == 1


def test_control_characters_in_a_file_never_reach_the_terminal(tmp_path, capsys):
    # a measurement id is printed as it is in the table: an ANSI escape there would clear the screen
    p = _measurements(tmp_path, id="evil\x1b[2J\x1b]0;pwned\x07\u202e")
    assert main(["validate", "--data", str(p), "--spec", str(_toy(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "evil\\x1b[2J\\x1b]0;pwned\\x07\\u202e" in out


def _toy(tmp_path):
    from conftest import MINIMAL_SPEC

    p = tmp_path / "toy.toml"
    p.write_text(MINIMAL_SPEC)
    return p


@pytest.mark.parametrize("exc, message, code", [
    (PermissionError(13, "Permission denied", "/read-only/cache/x.json"), "Permission denied: '/read-only/cache/x.json'", 2),
    (OSError(28, "No space left on device"), "No space left on device", 2),
    (MemoryError(), "not enough memory", 2),
    (KeyboardInterrupt(), "interrupted", 130),
])
def test_what_the_machine_refuses_is_one_line(monkeypatch, capsys, exc, message, code):
    from roofline.outputs.cli.commands import BY_NAME

    def boom(args):
        raise exc

    monkeypatch.setattr(BY_NAME["list"], "run", boom)
    assert message in one_line_error(capsys, ["list"], code=code)


# ------------------------------------------------------------------------------------------------------
# data loss: a write that does not finish leaves the earlier file whole and no partial file
# ------------------------------------------------------------------------------------------------------
EARLIER = "model,batch\nearlier-result,1\n"


def _interrupt_after_writing(exc):
    """A writer that puts half a file where it was told to write, then fails like a full disk or Ctrl-C."""
    def write(self_or_fig, path, *args, **kwargs):
        with open(path, "w") as fh:
            fh.write("model,batch\nllama-3.1-8b,1\nllama-3.1-8b,")
        raise exc
    return write


@pytest.mark.parametrize("exc, code, message", [
    (OSError(28, "No space left on device"), 2, "No space left on device"),
    (KeyboardInterrupt(), 130, "interrupted"),
])
def test_an_interrupted_sweep_keeps_the_earlier_csv(tmp_path, monkeypatch, capsys, exc, code, message):
    from roofline.sweep.writer import FrameWriter

    target = tmp_path / "grid.csv"
    target.write_text(EARLIER)

    def write_bytes(self, buf, rows):  # half a file where the writer was told to write, then a failure
        self._tmp.write_text("model,batch\nllama-3.1-8b,1\nllama-3.1-8b,")
        raise exc

    monkeypatch.setattr(FrameWriter, "write_bytes", write_bytes)
    err = one_line_error(capsys, ["sweep", "--model", "llama-3.1-8b", "--device", "h100", "--out", str(target)],
                         code=code)
    assert message in err
    assert target.read_text() == EARLIER
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.csv"]   # no partial file beside it


def test_a_sweep_writes_a_complete_csv(tmp_path, capsys):
    target = tmp_path / "grid.csv"
    target.write_text(EARLIER)
    assert main(["sweep", "--model", "llama-3.1-8b", "--device", "h100", "--batch", "1,8", "--out", str(target)]) == 0
    assert "wrote 2 rows" in capsys.readouterr().out
    lines = target.read_text().splitlines()
    assert lines[0].startswith("model,dtype,phase,device") and len(lines) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.csv"]


def test_an_interrupted_chart_keeps_the_earlier_file(tmp_path, monkeypatch, capsys):
    from matplotlib.figure import Figure

    target = tmp_path / "wall.svg"
    target.write_text("<svg>earlier</svg>")
    monkeypatch.setattr(Figure, "savefig", _interrupt_after_writing(KeyboardInterrupt()))
    one_line_error(capsys, ["plot", "memory-wall", "--out", str(target)], code=130)
    assert target.read_text() == "<svg>earlier</svg>"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wall.svg"]


def test_an_interrupted_chunked_parquet_sweep_keeps_the_earlier_file(tmp_path, monkeypatch):
    pytest.importorskip("pyarrow")
    import numpy as np

    from roofline.llm import sweeps

    target = tmp_path / "grid.parquet"
    sweeps.llm_sweep_to_parquet(target, "llama-3.1-8b", ["h100"], np.arange(1, 31), [1024], chunk=10,
                                progress=False)
    earlier = target.read_bytes()
    calls = []
    real = sweeps._points

    def evaluator(*args, **kwargs):   # the chunk evaluator fails on the third chunk (SIGINT, a full disk...)
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(sweeps, "_points", evaluator)
    with pytest.raises(KeyboardInterrupt):
        sweeps.llm_sweep_to_parquet(target, "llama-3.1-8b", ["h100"], np.arange(1, 61), [1024], chunk=10,
                                    progress=False)
    assert len(calls) == 3                          # two chunks were written before the interruption
    assert target.read_bytes() == earlier
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.parquet"]


def test_a_chunked_parquet_sweep_records_its_grid_and_rows(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    import numpy as np

    from roofline.llm import sweeps

    target = tmp_path / "grid.parquet"
    n = sweeps.llm_sweep_to_parquet(target, "llama-3.1-8b", ["h100", "a100"], np.arange(1, 21), [1024, 4096],
                                    device_counts=[1], chunk=16, progress=False)
    assert n == 20 * 2 * 2                          # batch x context x devices
    meta = pq.read_metadata(target)
    kv = meta.metadata
    assert meta.num_rows == n and int(kv[b"roofline.rows"]) == n
    grid = json.loads(kv[b"roofline.grid"])
    assert grid["model"] == "llama-3.1-8b" and grid["devices"] == ["h100", "a100"]
    assert grid["batch"] == list(range(1, 21)) and grid["context"] == [1024, 4096] and grid["device_counts"] == [1]
    assert grid["phase"] == "decode" and grid["dtype"] == "bf16" and grid["ideal"] is False


# ------------------------------------------------------------------------------------------------------
# a read-only cache folder: roofline runs without writing to it (a large sweep included), no PermissionError
# ------------------------------------------------------------------------------------------------------
def _read_only_runner(cache):
    """A function that runs a shell command with ``cache`` read-only (chmod for a user, a read-only bind mount
    in a private mount namespace for root, who ignores modes), or None where neither is possible."""
    import os
    import shutil
    import subprocess

    if os.geteuid() != 0:
        def run(cmd):
            for p in [cache, *cache.rglob("*")]:
                p.chmod(p.stat().st_mode & ~0o222)
            try:
                return subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=600)
            finally:
                for p in [cache, *cache.rglob("*")]:
                    p.chmod(p.stat().st_mode | 0o200)
        return run
    if not shutil.which("unshare"):
        return None
    probe = subprocess.run(["unshare", "-m", "sh", "-c", f"mount --bind -o ro '{cache}' '{cache}'"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return None
    return lambda cmd: subprocess.run(["unshare", "-m", "sh", "-c", f"mount --bind -o ro '{cache}' '{cache}' && {cmd}"],
                                      capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_a_read_only_cache_folder_is_not_an_error(tmp_path):
    import os
    import subprocess

    cache = tmp_path / "cache"
    env = dict(os.environ, ROOFLINE_CACHE_DIR=str(cache))
    # 4096 x 20 points: above the size at which the numba evaluator (and its kernel cache) is used
    sweep = (f"'{sys.executable}' -m roofline sweep --device h100 --batch 1:4096:+1 --context 1:32768:20 "
             f"--out '{tmp_path}/grid.parquet' --model")
    warm = subprocess.run(f"{sweep} llama-3.1-8b", shell=True, env=env, capture_output=True, text=True, timeout=600)
    assert warm.returncode == 0, warm.stderr
    run = _read_only_runner(cache)
    if run is None:
        pytest.skip("cannot make a folder read-only here")
    for model in ("llama-3.1-8b", "llama-3.1-70b"):   # one with cache entries, one that needs new ones
        r = run(f"ROOFLINE_CACHE_DIR='{cache}' {sweep} {model}")
        assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
        assert "wrote" in r.stdout


def test_measurement_row_with_too_few_cells(tmp_path, capsys):
    from roofline.validation.bounds import FIELDS

    p = tmp_path / "m.csv"
    p.write_text(",".join(FIELDS) + "\nonly,three,cells\n")
    err = one_line_error(capsys, ["validate", "--data", str(p)])
    assert "line 2" in err and f"expected {len(FIELDS)} columns, got 3" in err
