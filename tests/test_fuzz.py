"""Fuzzing the command line and the spec and model files a user hands it (issue 12).

The promise: whatever the arguments and whatever the fields of a spec or model file, ``roofline`` ends
in exit status 0 with finite numbers in its JSON, or in exit status 2 with exactly one line on stderr —
never a traceback, never a hang. Each case runs :func:`roofline.outputs.cli.main` in this process under
a time limit (an interval timer raises :class:`Hang`, which nothing in roofline catches).

The fast tests draw a dozen or two cases each, the same ones every run (a few seconds in the fast loop);
``test_fuzz_cli_many`` and ``test_fuzz_files_many`` draw hundreds of new ones each run and are marked slow. Sweep grids are kept small here: a grid too large for memory is the chunked
sweep's business (its own tests), not a fuzz case.
"""

import contextlib
import io
import itertools
import json
import math
import signal
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roofline.outputs.cli import main

#: Seconds one case may take (a cold compile of a new model structure takes about one).
LIMIT_S = 60

pytestmark = pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs an interval timer (Unix)")

FAST = settings(max_examples=20, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
#: Files to write and, for a new model structure, a compile per case: fewer cases in the fast loop.
FAST_FILES = settings(FAST, max_examples=12)


class Hang(BaseException):
    """A case ran past :data:`LIMIT_S` (a BaseException, so no ``except Exception`` in roofline hides it)."""


def run_cli(argv, limit: float = LIMIT_S):
    """``main(argv)`` under a time limit: (exit status, stdout, stderr, warnings raised)."""
    out, err = io.StringIO(), io.StringIO()

    def on_alarm(signum, frame):
        raise Hang(f"roofline {' '.join(argv)} ran past {limit} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(err):
            warnings.simplefilter("always")
            code = main(list(argv))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    numeric = [w for w in caught if issubclass(w.category, RuntimeWarning) and "figures have been opened" not in str(w.message)]
    return code, out.getvalue(), err.getvalue(), numeric


def _finite_numbers(x, where="$"):
    """Every number in a parsed JSON document is finite (NaN and infinity are spelled null)."""
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return
    if isinstance(x, (int, float)):
        assert math.isfinite(x), f"non-finite number at {where}: {x!r}"
    elif isinstance(x, dict):
        for k, v in x.items():
            _finite_numbers(v, f"{where}.{k}")
    elif isinstance(x, list):
        for i, v in enumerate(x):
            _finite_numbers(v, f"{where}[{i}]")


def _reject_constant(name):
    raise AssertionError(f"JSON holds {name}, not a finite number")


def check_outcome(argv, limit: float = LIMIT_S):
    """Run one case and check the promise; returns the exit status."""
    code, out, err, numeric_warnings = run_cli(argv, limit)
    assert code in (0, 2), f"exit status {code!r} for {argv}"
    assert "Traceback" not in err, err
    if code == 2:
        lines = err.strip("\n").splitlines()
        assert len(lines) == 1 and lines[0].strip(), f"{argv}: stderr is not one line: {err!r}"
        return code
    assert not numeric_warnings, f"{argv}: {numeric_warnings[0].message}"
    if "json" in argv and not {"--help", "-h", "--out"} & set(argv):
        _finite_numbers(json.loads(out, parse_constant=_reject_constant))
    return code


# ------------------------------------------------------------------------------------------------------
# what a user might type
# ------------------------------------------------------------------------------------------------------
ODD_NUMBERS = ["0", "-1", "-0", "1.5", "2.0", "1e3", "1e30", "1e308", "1e400", "inf", "-inf", "nan", "", " ",
               "0x10", "9007199254740992", "9007199254740993", "99999999999999999999999", "1_000", "\u0663", "½",
               "3 ", "+4", "1e-3", "one"]
# a good value most of the time, so that most cases get past the parser to the library
number = st.one_of(st.integers(min_value=1, max_value=64).map(str), st.integers(min_value=-3, max_value=70_000).map(str),
                   st.sampled_from(ODD_NUMBERS))
small_grid = st.one_of(
    st.integers(min_value=1, max_value=4096).map(str), st.integers(min_value=-2, max_value=4096).map(str),
    st.sampled_from(["1:1024", "1:1024:20", "1:64:+8", "1,8,64", "1:0", "5:1", "1:10:0", "1:10:+0", "1:10:1e9",
                     "1::", "::", ",", "1,,2", "1:2:3:4", "inf", "nan", "1e30", "1:1e30", "0:8", "1.5", "8,1.5",
                     "1:2000000:+1", "-4:4", "1:4096:+64"]),
)
device = st.one_of(st.sampled_from(["h100", "a100", "wse3", "mi300x", "tpu-v5e", "gb200-nvl72"]),
                   st.sampled_from(["h1000", "", " ", "H100", "\x1b[31mh100", "8xh100"]))
model = st.one_of(st.sampled_from(["llama-3.1-8b", "llama-3.1-70b"]),
                  st.sampled_from(["LLAMA-3.1-8B", "nope", "", "/no/such/model.toml", "\u202ellama"]))
dtype = st.sampled_from(["bf16", "fp8", "fp4", "int4", "int8", "fp16", "fp32", "fp5", "", "BF16", "bf16,fp8"])
path = st.sampled_from(["", " ", "/no/such/folder/x.csv", "x.xlsx", ".", "/", "/dev/null", "a\x00b.csv"])
price = st.sampled_from(["2.5", "0", "-1", "inf", "nan", "1e308", "1e-308", "h100=2.5", "=3", "h100=x", "h100=2,", "x"])
acceptance = st.sampled_from(["0.8", "0.9,0.8,0.7", "1", "0", "1.5", "-0.1", "nan", "", ",", "0.8," * 100])


def _opt(name, values):
    return values.map(lambda v: [name, v])


def _argv(head, *opts):
    """``head`` and up to three of ``opts`` (each ``[name, value]``)."""
    chosen = st.lists(st.sampled_from(range(len(opts))), max_size=3, unique=True)
    return chosen.flatmap(lambda ix: st.tuples(*(opts[i] for i in ix))).map(
        lambda parts: head + [x for p in parts for x in p])


gemm_argv = st.tuples(device, number, number, number).flatmap(lambda t: _argv(
    ["gemm", "--device", t[0], "--m", t[1], "--n", t[2], "--k", t[3], "--format", "json"],
    _opt("--batch", number), _opt("--dtype", dtype), _opt("--level", st.sampled_from(["hbm", "l2", "l3", "sram"]))))
llm_argv = st.tuples(model, device).flatmap(lambda t: _argv(
    ["llm", "--model", t[0], "--device", t[1], "--format", "json"],
    _opt("--batch", number), _opt("--context", number), _opt("--devices", number), _opt("--tp", number),
    _opt("--pp", number), _opt("--generate", number), _opt("--prompt", number), _opt("--dtype", dtype),
    _opt("--price", price), _opt("--mtp", number), _opt("--eagle", number), _opt("--draft", model),
    _opt("--draft-tokens", number), _opt("--acceptance", acceptance), _opt("--draft-devices", number)))
sweep_argv = st.tuples(model, device).flatmap(lambda t: _argv(
    ["sweep", "--model", t[0], "--device", t[1], "--format", "json"],
    _opt("--batch", small_grid), _opt("--context", small_grid), _opt("--devices", small_grid),
    _opt("--dtype", dtype), _opt("--out", path), _opt("--plot", path)))
other_argv = st.one_of(
    st.tuples(device, device).flatmap(lambda t: _argv(["compare", t[0], t[1], "--format", "json"],
                                                      _opt("--batch", number), _opt("--context", number))),
    device.map(lambda d: ["show", d, "--format", "json"]),
    path.map(lambda p: ["list", "--spec", p, "--format", "json"]),
    path.map(lambda p: ["models", "--model-path", p, "--format", "json"]),
    path.map(lambda p: ["validate", "--data", p, "--format", "json"]),
    st.tuples(device, device, path).map(lambda t: ["report", t[0], t[1], "--out", t[2]]),
    st.lists(st.text(max_size=12), max_size=5),
)


@FAST
@given(gemm_argv)
def test_fuzz_gemm(argv):
    check_outcome(argv)


@FAST
@given(llm_argv)
def test_fuzz_llm(argv):
    check_outcome(argv)


@FAST
@given(st.one_of(sweep_argv, other_argv))
def test_fuzz_sweep_and_the_rest(tmp_path, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)  # a relative --out lands in a scratch folder
    check_outcome(argv)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(gemm_argv, llm_argv, sweep_argv, other_argv))
def test_fuzz_cli_many(tmp_path, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    check_outcome(argv)


# ------------------------------------------------------------------------------------------------------
# spec files: figures, units, counts, names, schema
# ------------------------------------------------------------------------------------------------------
SPEC = '''
schema = {schema}
[device]
key = "fuzz"
name = {name}
vendor = "Test"
kind = "chip"
year = 2024

[sources.s1]
title = "Fuzz datasheet"
url = "https://example.invalid/fuzz"
date = "2024-01"

[compute.bf16]
dense = {{ value = {peak}, basis = "datasheet", source = "s1" }}

[[memory]]
name = "hbm"
kind = "hbm"
capacity = {{ value = {capacity}, basis = "datasheet", source = "s1" }}
bandwidth = {{ value = {bandwidth}, basis = "estimate", low = {bw_low}, high = {bw_high}, source = "s1", note = "fuzz" }}

[[interconnect]]
name = "link"
duplex = "per-direction"
bandwidth = {{ value = "100 GB/s", basis = "datasheet", source = "s1" }}
latency = {{ value = {latency}, basis = "datasheet", source = "s1" }}
domain_size = {{ value = {domain}, basis = "datasheet", source = "s1" }}

[power]
tdp = {{ value = "300 W", basis = "datasheet", source = "s1" }}

[architecture]
cores = {{ value = 132, basis = "datasheet", source = "s1" }}
clock = {{ value = "1.8 GHz", basis = "datasheet", source = "s1" }}
derived = {{ basis = "derived", formula = {formula}, source = "s1" }}
'''


def toml_value(v) -> str:
    """A Python value as a TOML value (strings JSON-escaped, which TOML reads the same way)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, int):
        return str(v)
    return json.dumps(v, ensure_ascii=False)


text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=10)
magnitude = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                      st.sampled_from(["9**9**9", "2 ** 10 ** 10", "1e308", "-1", "0", "1e-320", "1e30", "3.35"]))
unit = st.sampled_from(["W", "EW", "Ms", "TB/s", "GB", "GiB", "us", "ns", "TFLOP/s", "", "furlong", "B/s/s", "%"])
quantity = st.one_of(st.tuples(magnitude, unit).map(lambda t: f"{t[0]} {t[1]}".strip()), text,
                     st.integers(min_value=-10, max_value=10**30), st.floats(allow_nan=True), st.booleans())
formula = st.sampled_from([
    "9**9**9", "2 ** 10 ** 10", "architecture.cores ** 9 ** 9", "architecture.cores * 1e308 * 1e308",
    "architecture.cores / 0", "architecture.cores / (architecture.cores - 132)", "architecture.cores ** 0.5",
    "architecture.cores ** -1", "__import__('os')", "architecture.derived", "architecture.nope", "architecture.cores +",
    "(" * 200 + "architecture.cores" + ")" * 200, "-architecture.cores", "0 * architecture.cores",
    "architecture.cores * architecture.clock", "memory.hbm.bandwidth * 1e30", "1e308 * 10"])
SPEC_DEFAULTS = {"schema": 1, "name": "Fuzz chip", "peak": "100 TFLOP/s", "capacity": "80 GB", "bandwidth": "3 TB/s",
                 "bw_low": "2 TB/s", "bw_high": "4 TB/s", "latency": "1 us", "domain": 8,
                 "formula": "architecture.cores * 2"}


def plausible(unit_text: str):
    """A positive finite value in the field's own unit, from the absurdly small to the absurdly large."""
    return st.floats(min_value=1e-40, max_value=1e40).map(lambda x: f"{x!r} {unit_text}")


SPEC_FUZZ = {
    "schema": st.one_of(st.booleans(), st.sampled_from([1.0, 2, 0, "1"])), "name": text,
    "peak": st.one_of(plausible("TFLOP/s"), quantity), "capacity": st.one_of(plausible("GB"), quantity),
    "bandwidth": st.one_of(plausible("TB/s"), quantity), "bw_low": st.one_of(plausible("TB/s"), quantity),
    "bw_high": st.one_of(plausible("TB/s"), quantity), "latency": st.one_of(plausible("us"), quantity),
    "domain": st.one_of(st.integers(min_value=-2, max_value=10**20), st.floats(), quantity),
    "formula": st.one_of(formula, text),
}


def _some_of(defaults: dict, fuzz: dict, most: int = 2):
    """``defaults`` with up to ``most`` of its fields drawn from ``fuzz`` (one bad field at a time reaches
    deeper than many: the first error would stop the rest)."""
    keys = st.lists(st.sampled_from(sorted(fuzz)), max_size=most, unique=True)
    return keys.flatmap(lambda ks: st.fixed_dictionaries({k: fuzz[k] for k in ks})).map(lambda d: {**defaults, **d})


spec_fields = _some_of(SPEC_DEFAULTS, SPEC_FUZZ)


spec_commands = st.sampled_from([
    ["show", "fuzz", "--format", "json"],
    ["gemm", "--device", "fuzz", "--m", "256", "--n", "256", "--k", "256", "--format", "json"],
    ["llm", "--model", "llama-3.1-8b", "--device", "fuzz", "--format", "json"],
])
_serial = itertools.count()


def _fresh(folder, suffix: str):
    """A new file name per case (the device library notices an edit by its file's modification time)."""
    return folder / f"fuzz-{next(_serial)}{suffix}"


def check_spec_case(folder, fields: dict, argv: list) -> None:
    f = _fresh(folder, ".toml")
    f.write_text(SPEC.format(**{k: toml_value(v) for k, v in fields.items()}), encoding="utf-8")
    check_outcome(argv + ["--spec", str(f)])
    f.unlink()


@FAST_FILES
@given(spec_fields, spec_commands)
def test_fuzz_spec_fields(tmp_path, fields, argv):
    check_spec_case(tmp_path, fields, argv)


# ------------------------------------------------------------------------------------------------------
# model files: every field of the architecture, and a mixture of experts
# ------------------------------------------------------------------------------------------------------
count = st.one_of(st.integers(min_value=1, max_value=64), st.integers(min_value=-2, max_value=2**40),
                  st.sampled_from([0, 2**31, 2**63, 10**30]), st.floats(allow_nan=True), st.booleans(), text,
                  st.none())
ARCH_DEFAULTS = {"n_layers": 2, "d_model": 64, "n_heads": 4, "n_kv_heads": 2, "d_ff": 128, "vocab_size": 1000}
ARCH_FUZZ = {k: count for k in ("n_layers", "d_model", "n_heads", "n_kv_heads", "d_ff", "vocab_size", "head_dim",
                                "sliding_window", "sliding_window_layers", "max_context")}
ARCH_FUZZ.update(mlp=st.one_of(st.sampled_from(["gated", "standard"]), text), tie_embeddings=st.one_of(st.booleans(), count))
MOE_DEFAULTS = {"n_experts": 8, "experts_per_token": 2, "d_ff_expert": 64}
MOE_FUZZ = {k: count for k in ("n_experts", "experts_per_token", "d_ff_expert", "first_dense_layers", "n_shared_experts")}
model_fields = _some_of(ARCH_DEFAULTS, ARCH_FUZZ)
moe_fields = st.one_of(st.none(), _some_of(MOE_DEFAULTS, MOE_FUZZ, most=1))


def model_file(arch: dict, moe: dict | None) -> str:
    lines = ['schema = 1', '[model]', 'key = "fuzz-model"', 'name = "Fuzz model"', '[architecture]']
    lines += [f"{k} = {toml_value(v)}" for k, v in arch.items() if v is not None]
    if moe is not None:
        lines += ["[moe]"] + [f"{k} = {toml_value(v)}" for k, v in moe.items() if v is not None]
    return "\n".join(lines) + "\n"


model_options = st.sampled_from([[], ["--batch", "4", "--context", "512"], ["--devices", "2"]])


def check_model_case(folder, arch: dict, moe, extra: list) -> None:
    f = _fresh(folder, ".toml")
    f.write_text(model_file(arch, moe), encoding="utf-8")
    check_outcome(["llm", "--model", str(f), "--device", "h100", "--format", "json", *extra])
    f.unlink()


@FAST_FILES
@given(model_fields, moe_fields, model_options)
def test_fuzz_model_fields(tmp_path, arch, moe, extra):
    check_model_case(tmp_path, arch, moe, extra)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(st.tuples(st.just("spec"), spec_fields, spec_commands),
                 st.tuples(st.just("model"), st.tuples(model_fields, moe_fields), model_options)))
def test_fuzz_files_many(tmp_path, case):
    kind, fields, extra = case
    if kind == "spec":
        check_spec_case(tmp_path, fields, extra)
    else:
        check_model_case(tmp_path, *fields, extra)


def test_the_time_limit_catches_a_hang(monkeypatch):
    """The harness itself: a command that never returns is stopped and reported as :class:`Hang`."""
    import time

    from roofline.outputs.cli.commands import BY_NAME

    monkeypatch.setattr(BY_NAME["list"], "run", lambda args: time.sleep(10))
    with pytest.raises(Hang):
        run_cli(["list"], limit=0.2)
