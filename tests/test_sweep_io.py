"""Sweeps written as they are computed: pyarrow's CSV and Parquet writers, atomic files, the settings that
size a sweep (threads, memory budget) (issue 13)."""

import json

import numpy as np
import pandas as pd
import pytest

from roofline import _paths
from roofline.errors import InputError
from roofline.sweep.writer import FrameWriter, _joined_csv, frame_format, write_frame

pa = pytest.importorskip("pyarrow")


def _chunk(lo, hi):
    b = np.arange(lo, hi)
    return pd.DataFrame({"device": pd.Categorical(["h100"] * (hi - lo)), "batch": b, "time_s": 1.0 / b,
                         "fits": b % 2 == 0})


def test_csv_in_chunks_reads_back_as_one_frame(tmp_path):
    path = tmp_path / "g.csv"
    with FrameWriter(path) as w:
        for lo in range(1, 100, 30):
            w.write(_chunk(lo, min(lo + 30, 100)))
    back = pd.read_csv(path)
    want = _chunk(1, 100)
    assert w.rows == 99 and list(back.columns) == list(want.columns)       # one header
    np.testing.assert_array_equal(back.batch, want.batch)
    np.testing.assert_allclose(back.time_s, want.time_s, rtol=0)          # shortest round-trip text
    assert back.fits.tolist() == want.fits.tolist() and set(back.device) == {"h100"}
    assert path.read_text().splitlines()[0] == "device,batch,time_s,fits"  # no quotes where none are needed


def test_parquet_keeps_categories_and_the_frames_metadata(tmp_path):
    df = _chunk(1, 50)
    df.attrs["units"] = {"time_s": "s"}
    path = tmp_path / "g.parquet"
    assert write_frame(df, path) == 49
    import pyarrow.parquet as pq

    meta = json.loads(pq.ParquetFile(path).schema_arrow.metadata[b"roofline"])
    assert meta["units"] == {"time_s": "s"}
    assert isinstance(pd.read_parquet(path).device.dtype, pd.CategoricalDtype)


def test_an_interrupted_write_leaves_the_earlier_file(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("old\n")

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with FrameWriter(path) as w:
            w.write(_chunk(1, 10))
            raise Boom
    assert path.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["g.csv"]


def test_only_csv_and_parquet():
    assert frame_format("a.CSV") == "csv"
    with pytest.raises(InputError, match="csv or .parquet"):
        frame_format("a.xlsx")


def test_threads_and_budget_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("ROOFLINE_THREADS", "3")
    assert _paths.thread_count() == 3
    monkeypatch.setenv("ROOFLINE_THREADS", "many")
    with pytest.raises(ValueError, match="ROOFLINE_THREADS"):
        _paths.thread_count()
    monkeypatch.setenv("ROOFLINE_MEMORY_BUDGET", "1.5 GB")
    assert _paths.memory_budget() == 1.5e9           # decimal prefix: 10^9
    monkeypatch.setenv("ROOFLINE_MEMORY_BUDGET", "2GiB")
    assert _paths.memory_budget() == 2 * 2**30       # binary prefix: 2^30
    monkeypatch.setenv("ROOFLINE_MEMORY_BUDGET", "-1")
    with pytest.raises(ValueError, match="ROOFLINE_MEMORY_BUDGET"):
        _paths.memory_budget()
    monkeypatch.delenv("ROOFLINE_MEMORY_BUDGET")
    assert _paths.memory_budget() > 0


def test_threaded_file_equals_the_single_threaded_one(tmp_path, monkeypatch):
    """Chunks evaluated and encoded on two threads are written in order: the same bytes as one thread."""
    from roofline.llm import decode_sweep
    from roofline.sweep import chunks

    monkeypatch.setattr(chunks, "PARALLEL_MIN", 1)  # threads from the first point, not from 131,072
    grid = ("llama-3.1-8b", ["h100", "h200"], np.arange(1, 40), [512, 4096, 262144])  # the last does not fit
    for suffix in (".csv", ".parquet"):
        one, two = tmp_path / f"one{suffix}", tmp_path / f"two{suffix}"
        assert decode_sweep(*grid, out=one, chunk=16, workers=1) == 2 * 39 * 3
        assert decode_sweep(*grid, out=two, chunk=16, workers=2) == 2 * 39 * 3
        assert one.read_bytes() == two.read_bytes()


def test_sweep_file_holds_the_in_memory_frame(tmp_path):
    """CSV and Parquet read back to the frame's values, bit for bit (NaN where a point does not fit), its
    labels and its integer columns."""
    from roofline.llm import decode_sweep

    grid = ("llama-3.1-8b", ["h100", "wse3"], [1, 7, 64, 4096], [512, 262144])
    df = decode_sweep(*grid)
    assert df.time_s.isna().any() and df.time_s.notna().any()
    for suffix in (".csv", ".parquet"):
        path = tmp_path / f"g{suffix}"
        decode_sweep(*grid, out=path)
        back = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
        assert list(back.columns) == list(df.columns)
        for c in df.columns:
            if df[c].dtype.kind == "f":
                np.testing.assert_array_equal(back[c].to_numpy(), df[c].to_numpy())   # NaN == NaN here
            else:
                assert back[c].astype(str).tolist() == df[c].astype(str).tolist(), c


@pytest.mark.slow
def test_cli_sweep_to_a_file_imports_no_pandas(tmp_path):
    """`roofline sweep --out` builds pyarrow tables from NumPy buffers: pandas (about 0.25 s) is never imported."""
    import subprocess
    import sys

    code = ("import sys; from roofline.outputs.cli.main import main; "
            f"main(['sweep', '-m', 'llama-3.1-8b', '-d', 'h100', '-b', '1:8', '-o', {str(tmp_path / 'g.parquet')!r}]); "
            f"main(['sweep', '-m', 'llama-3.1-8b', '-d', 'h100', '-b', '1:8', '-o', {str(tmp_path / 'g.csv')!r}]); "
            "print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split()[-1] == "False"


def test_joined_csv_is_pyarrows_csv_byte_for_byte(tmp_path):
    """The CSV encoder that joins pre-formatted fields (constant columns written once) writes what pyarrow's
    CSV writer writes, and hands a table it cannot write (a null, a value that needs quotes) to that writer."""
    import pyarrow.csv as pcsv

    rng = np.random.default_rng(7)
    n = 1000
    x = rng.lognormal(0.0, 12.0, n) * rng.choice([-1.0, 1.0], n)
    x[::7], x[3], x[5] = np.nan, np.inf, -0.0
    with np.errstate(divide="ignore"):
        rate = 1.0 / x
    table = pa.table({
        "model": pa.DictionaryArray.from_arrays(np.zeros(n, dtype=np.int8), ["llama-3.1-8b"]),
        "devices": np.full(n, 8, dtype=np.int32), "batch": np.arange(n, dtype=np.int64),
        "time_s": x, "bound": pa.DictionaryArray.from_arrays((np.arange(n) % 3).astype(np.int8),
                                                             ["memory:hbm", "compute", "capacity"]),
        "fits": np.arange(n) % 2 == 0, "layout": pa.DictionaryArray.from_arrays(np.zeros(n, dtype=np.int8),
                                                                                ["tp=8 pp=1"]),
        "rate": rate})
    sink = pa.BufferOutputStream()
    pcsv.write_csv(table, sink, pcsv.WriteOptions(quoting_style="none"))
    want = sink.getvalue().to_pybytes().replace(b'"', b"")  # the header pyarrow quotes; the values it does not
    assert _joined_csv(table, pa) is not None                # the table takes the joined path
    # a line that starts with a varying column (its end then appended to the last field, not the next start)
    names = ["batch", *[c for c in table.column_names if c != "batch"]]
    sink = pa.BufferOutputStream()
    pcsv.write_csv(table.select(names), sink, pcsv.WriteOptions(quoting_style="none", include_header=False))
    assert bytes(_joined_csv(table.select(names), pa)) == sink.getvalue().to_pybytes()
    with FrameWriter(tmp_path / "g.csv") as w:
        assert bytes(w.encode(table, header=True)) == want
        odd = pa.table({"name": pa.DictionaryArray.from_arrays(np.zeros(2, dtype=np.int8), ["a,b"]), "v": [1.0, None]})
        assert bytes(w.encode(odd, header=False)) == b'"a,b",1\n"a,b",\n'


def test_parquet_statistics_where_a_reader_skips_row_groups_by_them(tmp_path):
    """Min/max statistics over the grid's coordinates and a system's labels (one value per row group), none
    over the floats or the binding term (it varies within every row group: its min and max prune nothing)."""
    import pyarrow.parquet as pq

    from roofline.llm import decode_sweep

    path = tmp_path / "g.parquet"
    decode_sweep("llama-3.1-8b", ["h100", "h200"], [1, 8, 64], [512, 4096], out=path)
    group = pq.ParquetFile(path).metadata.row_group(0)
    has = {group.column(i).path_in_schema: group.column(i).is_stats_set for i in range(group.num_columns)}
    assert has["batch"] and has["context"] and has["device"] and has["model"] and has["devices"]
    assert not has["bound"] and not has["time_s"] and not has["tokens_per_s"]


def test_labels_are_their_codes_words_and_a_code_out_of_range_is_refused():
    """A dictionary column spells each code's word; a code outside the words is an error, not a wrong row."""
    from roofline.sweep.writer import arrow_labels

    words = ["memory", "compute", "latency"]
    codes = np.array([2, 0, 1, 1, 0], dtype=np.int8)
    assert arrow_labels(codes, words, pa).to_pylist() == ["latency", "memory", "compute", "compute", "memory"]
    assert arrow_labels(np.zeros(0, dtype=np.int8), words, pa).to_pylist() == []
    for bad in ([0, 3], [-1, 0]):
        with pytest.raises((pa.ArrowIndexError, pa.ArrowInvalid)):
            arrow_labels(np.array(bad, dtype=np.int8), words, pa).validate(full=True)
