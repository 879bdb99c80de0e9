"""Cost (issue 14): USD per million tokens and tokens/s per MW from a price per device-hour and the power in
the specs; the shipped price table; the bf16-at-fp16 compute fallback (Groq's LPU has no bf16 peak)."""

import json

import pytest

from roofline import formulas, llm
from roofline.dtypes import peak_dtype
from roofline.errors import InputError, SpecError
from roofline.hardware.prices import get_price, price_table
from roofline.outputs.cli import main
from roofline.outputs.compare import compare

# ---------------------------------------------------------------------------------------------------
# the price table
# ---------------------------------------------------------------------------------------------------


def test_every_price_is_sourced_and_ranged():
    table = price_table()
    assert {"h100", "h200", "b200", "b300", "a100", "mi300x", "tpu-v5e", "tpu-v6e", "gb200-nvl72"} <= set(table)
    for key, p in table.items():
        assert p.low <= p.value <= p.high, key
        assert p.sources and all(p.references[s].get("url", "").startswith("https://") for s in p.sources), key
        assert p.basis in ("estimate", "datasheet")
        if p.basis == "datasheet":          # one published price: no spread
            assert p.low == p.value == p.high, key


def test_h100_price_is_the_median_of_the_providers_the_table_lists():
    # prices/cloud-prices.toml, [device.h100] note: Hyperstack 3.20, Lambda 3.99, RunPod Secure 3.99, Nebius
    # 4.50, CoreWeave 6.155, AWS p5 6.88, GCP a3-high 10.98, Azure ND H100 v5 12.29 (USD per GPU-hour);
    # the median of eight is the mean of the 4th and 5th: (4.50 + 6.155) / 2 = 5.3275
    p = get_price("h100")
    assert p.value == pytest.approx((4.50 + 6.155) / 2, abs=0.005)
    assert (p.low, p.high) == (2.69, 12.29)   # RunPod Community; Azure eastus
    # devices sold as systems or tokens have no device-hour price (the table's header says why)
    assert get_price("wse3") is None and get_price("groq-lpu") is None


@pytest.mark.parametrize("entry, field, message", [
    ('price = { value = 0, unit = "USD/h", basis = "datasheet", source = "s" }', "device.x.price.value", "positive"),
    ('price = { value = 2, low = 3, unit = "USD/h", basis = "estimate", source = "s" }', "device.x.price",
     "low <= value <= high"),
    ('price = { value = 2, unit = "EUR/h", basis = "datasheet", source = "s" }', "device.x.price.unit", "USD/h"),
    ('price = { value = 2, unit = "USD/h", basis = "guess", source = "s" }', "device.x.price.basis", "estimate"),
    ('price = { value = 2, unit = "USD/h", basis = "datasheet", source = "nope" }', "device.x.price.source",
     "source ids"),
])
def test_a_broken_price_table_names_its_file_and_field(tmp_path, entry, field, message):
    p = tmp_path / "prices.toml"
    p.write_text('schema = 1\ncurrency = "USD"\n[sources.s]\nurl = "https://example.org"\n[device.x]\n' + entry + "\n")
    with pytest.raises(SpecError) as info:
        price_table(p)
    assert info.value.field == field and message in str(info.value) and str(p) in str(info.value)


# ---------------------------------------------------------------------------------------------------
# the formulas and one estimate by hand
# ---------------------------------------------------------------------------------------------------
def test_cost_formulas_by_hand():
    # 8 devices at 2.50 USD/h cost 20 USD/h; at 5,000 tokens/s an hour makes 18 million tokens
    assert formulas.usd_per_million_tokens(2.5, 8, 5000.0) == pytest.approx(20 / 18)
    # 5,000 tokens/s from 8 x 700 W = 5.6 kW is 892,857 tokens/s per MW
    assert formulas.tokens_per_s_per_mw(5000.0, 700, 8) == pytest.approx(5000 / 5.6e-3)


def test_llama_3_1_8b_on_one_h100_costs_by_hand():
    # One decode step at batch 1 reads every weight but the embedding table, of which it reads one row:
    # 8,030,261,248 parameters (meta-llama/Llama-3.1-8B) - 128256 x 4096 + 4096 = 7,504,928,768 in BF16,
    # and the KV cache of 1024 tokens: 1024 x 32 layers x 2 x 8 x 128 x 2 B = 134,217,728 B.
    step = (7_504_928_768 * 2 + 134_217_728) / 3.35e12      # H100 SXM HBM3, 3.35 TB/s: 4.521 ms
    tokens_per_s = 1 / step                                  # 221.2 tokens/s
    usd = 2.00 / 3600 / tokens_per_s * 1e6                   # at 2.00 USD per GPU-hour: 2.512 USD per million
    assert usd == pytest.approx(2.512, abs=0.001)
    per_mw = tokens_per_s / 700 * 1e6                        # H100 SXM TDP 700 W: 316,000 tokens/s per MW
    r = llm.estimate("llama-3.1-8b", "h100", batch=1, context=1024, ideal=True, price=2.0)
    assert r["tpot_s"] == pytest.approx(step, rel=0.005)
    assert r["usd_per_million_tokens"] == pytest.approx(usd, rel=0.005)
    assert r["tokens_per_s_per_mw"] == pytest.approx(per_mw, rel=0.005)
    assert (r["price_usd_per_device_hour"], r["price_source"]) == (2.0, "given")
    assert "price_usd_per_device_hour_range" not in r


def test_the_table_price_gives_a_cost_range_best_at_the_cheapest_price():
    r = llm.estimate("llama-3.1-70b", "h100", batch=8, context=2048)
    assert r["price_usd_per_device_hour"] == get_price("h100").value
    assert "cloud-prices.toml" in r["price_source"] and "[device.h100]" in r["price_source"]
    lo, hi = r["usd_per_million_tokens_range"]
    assert lo < r["usd_per_million_tokens"] < hi
    # the cheapest list price with the fastest step, the dearest with the slowest
    assert lo == pytest.approx(formulas.usd_per_million_tokens(2.69, r["devices_used"], r["tokens_per_s_range"][1]))
    assert hi == pytest.approx(formulas.usd_per_million_tokens(12.29, r["devices_used"], r["tokens_per_s_range"][0]))


def test_no_price_no_cost_and_a_price_per_device(capsys):
    r = llm.estimate("llama-3.1-8b", "wse3")
    assert r["usd_per_million_tokens"] is None and r["price_source"] is None
    assert r["tokens_per_s_per_mw"] > 0                      # its power is in the spec
    r = llm.estimate("llama-3.1-8b", "wse3", price={"wse3": 100.0, "h100": 1.0})
    assert r["usd_per_million_tokens"] == pytest.approx(
        formulas.usd_per_million_tokens(100.0, r["devices_used"], r["tokens_per_s"]))
    with pytest.raises(InputError, match="price must be a positive number"):
        llm.estimate("llama-3.1-8b", "h100", price=-1.0)
    assert main(["llm", "--model", "llama-3.1-8b", "--device", "h100", "--price", "0"]) == 2
    assert "--price" in capsys.readouterr().err


def test_cli_llm_json_has_the_cost_keys(capsys):
    assert main(["llm", "--model", "llama-3.1-8b", "--device", "h100", "--price", "3", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    for key in ("usd_per_million_tokens", "tokens_per_s_per_mw", "price_source", "price_usd_per_device_hour"):
        assert key in d
    assert d["usd_per_million_tokens"] == pytest.approx(3 / 3600 / d["tokens_per_s"] * 1e6)
    assert main(["llm", "--model", "llama-3.1-8b", "--device", "wse3", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["usd_per_million_tokens"] is None and d["price_source"] is None


def test_sweep_and_frontier_carry_the_cost_columns():
    df = llm.decode_sweep("llama-3.1-8b", ["h100", "wse3"], [1, 16], [1024], price={"h100": 2.0})
    h = df[df.device == "h100"]
    assert list(h.usd_per_million_tokens) == pytest.approx(list(2.0 / 3600 / h.tokens_per_s * 1e6))
    assert df[df.device == "wse3"].usd_per_million_tokens.isna().all()
    assert list(h.tokens_per_s_per_mw) == pytest.approx(list(h.tokens_per_s / 700 * 1e6))
    f = llm.frontier("llama-3.1-8b", "h100", batches=[1, 4])
    assert list(f.usd_per_million_tokens) == pytest.approx(
        list(get_price("h100").value / 3600 / f.tokens_per_s * 1e6))


def test_compare_has_cost_rows_where_lower_is_better():
    res = compare(["h100", "b200"], models=["llama-3.1-8b"])
    row = next(r for r in res["workloads"] if r["workload"] == "llama-3.1-8b USD/M tokens")
    assert row["better"] == "lower" and row["section"] == "cost"
    h, b = row["values"]["h100"]["value"], row["values"]["b200"]["value"]
    assert row["ratio_vs_first"]["b200"] == pytest.approx(b / h)
    mw = next(r for r in res["workloads"] if r["workload"] == "llama-3.1-8b tokens/s/MW")
    assert mw["better"] == "higher" and mw["values"]["h100"]["value"] > 0


def test_frontier_chart_per_dollar_needs_a_price():
    from roofline.outputs.plot import frontier_chart

    with pytest.raises(InputError, match="--price"):
        frontier_chart([llm.frontier("llama-3.1-8b", "wse3", batches=[1, 2])], per="dollar")
    fig = frontier_chart([llm.frontier("llama-3.1-8b", "h100", batches=[1, 2])], per="dollar")
    ax = fig.axes[0]
    assert "USD per million tokens" in ax.get_xlabel() and ax.xaxis_inverted()


# ---------------------------------------------------------------------------------------------------
# the compute fallback of the dtype table
# ---------------------------------------------------------------------------------------------------
def test_bf16_falls_back_to_the_fp16_peak_only_where_there_is_no_bf16_peak():
    assert peak_dtype("bf16", ["fp16", "int8"]) == "fp16"     # Groq LPU
    assert peak_dtype("bf16", ["bf16", "fp16"]) == "bf16"     # every GPU: unchanged
    assert peak_dtype("fp8", ["bf16"]) is None and peak_dtype("fp16", ["bf16"]) is None


def test_groq_computes_bf16_at_its_fp16_peak_and_says_so():
    bf16 = llm.estimate("llama-3.1-8b", "groq-lpu", batch=1, context=1024, ideal=True)
    fp16 = llm.estimate("llama-3.1-8b", "groq-lpu", batch=1, context=1024, ideal=True, dtype="fp16")
    assert bf16["compute_fallback"] == {"bf16": "fp16"} and fp16["compute_fallback"] == {}
    # same widths, same peak: the same times
    assert bf16["tpot_s"] == pytest.approx(fp16["tpot_s"], rel=1e-12)
    assert bf16["ttft_s"] == pytest.approx(fp16["ttft_s"], rel=1e-12)
    assert llm.estimate("llama-3.1-8b", "h100")["compute_fallback"] == {}
