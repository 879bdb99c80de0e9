"""Sweeps beyond memory: chunked evaluation, incremental Parquet, on-the-fly reductions, dask (issue 8)."""

import numpy as np
import pandas as pd
import pytest

from roofline import engine, get_device, llm, workloads
from roofline.llm import sweeps as bigsweep


def test_grid_chunks_cover_the_product_once():
    axes = {"a": [1, 2, 3], "b": [10, 20], "c": [7, 8, 9, 10]}
    chunks = list(bigsweep.grid_chunks(axes, chunk=5))
    assert [len(c["a"]) for c in chunks] == [5, 5, 5, 5, 4]
    got = sorted(zip(*(np.concatenate([c[k] for c in chunks]) for k in "abc")))
    want = sorted((a, b, c) for a in axes["a"] for b in axes["b"] for c in axes["c"])
    assert got == want


def test_chunked_equals_in_memory_sweep():
    B, S = np.arange(1, 40), [256, 4096]
    whole = llm.decode_sweep("llama-3.1-8b", ["h100", "wse3"], B, S, device_counts=[1])
    parts = pd.concat(bigsweep.llm_sweep_chunks("llama-3.1-8b", ["h100", "wse3"], B, S, device_counts=[1], chunk=7),
                      ignore_index=True)
    key = ["device", "batch", "context"]
    a, b = whole.sort_values(key).reset_index(drop=True), parts.sort_values(key).reset_index(drop=True)
    assert len(a) == len(b) == 2 * 39 * 2
    np.testing.assert_allclose(a.time_s, b.time_s, rtol=1e-12)
    assert (a.bound.astype(str).values == b.bound.astype(str).values).all()


def test_parquet_written_incrementally(tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "grid.parquet"
    n = bigsweep.llm_sweep_to_parquet(path, "llama-3.1-70b", ["h100"], np.arange(1, 301), [1024, 2048, 4096],
                                      device_counts=[4, 8], chunk=100, progress=True)
    assert n == 300 * 3 * 2
    import pyarrow.parquet as pq

    f = pq.ParquetFile(path)
    assert f.metadata.num_rows == n and f.metadata.num_row_groups == n // 100   # one row group per chunk
    df = pd.read_parquet(path)
    assert set(df.devices) == {4, 8} and df.batch.max() == 300


def test_reduce_best_matches_brute_force():
    B, S = np.arange(1, 257), [2048]
    full = llm.decode_sweep("llama-3.1-70b", ["h100"], B, S, device_counts=[8])
    ok = full[full.fits & (full.tokens_per_s_per_user >= 30)]
    want = ok.loc[(ok.tokens_per_s / 8).idxmax()]
    got = bigsweep.llm_sweep_reduce("llama-3.1-70b", ["h100"], B, S, device_counts=[8], reduce="best",
                                    min_tokens_per_s_per_user=30, chunk=50)
    assert len(got) == 1
    assert got.batch.iloc[0] == want.batch
    assert got.tokens_per_s_per_device.iloc[0] == pytest.approx(want.tokens_per_s / 8)


def test_reduce_pareto_is_not_dominated():
    p = bigsweep.llm_sweep_reduce("llama-3.1-8b", ["h100"], np.arange(1, 200), [512, 4096], reduce="pareto", chunk=64)
    u, d = p.tokens_per_s_per_user.to_numpy(), p.tokens_per_s_per_device.to_numpy()
    for i in range(len(p)):
        assert not np.any((u >= u[i]) & (d >= d[i]) & ((u > u[i]) | (d > d[i])))
    with pytest.raises(Exception, match="reduce must be"):
        bigsweep.llm_sweep_reduce("llama-3.1-8b", ["h100"], [1], [512], reduce="median")


def test_dask_arrays_with_the_local_scheduler():
    dask = pytest.importorskip("dask")
    import dask.array as da

    dev = get_device("h100")
    cw = engine.compile_workload(workloads.gemm(), dev)
    vals = dev.values()
    caps = [vals[f"memory.{m.name}.capacity"] for m in dev.memory]
    m = np.arange(1, 20001.0)
    with dask.config.set(scheduler="synchronous"):
        out = bigsweep.evaluate_dask(cw, {"M": da.from_array(m, chunks=4096), "N": 8192, "K": 8192}, vals, caps)
        assert isinstance(out["time_s"], da.Array)
        t = out["time_s"].compute()
        bound = out["bound_index"].compute()
    ref = cw.evaluate({"M": m, "N": 8192, "K": 8192}, vals, caps)
    np.testing.assert_allclose(t, ref["time_s"], rtol=1e-12)
    assert (bound == ref["bound_index"]).all()
