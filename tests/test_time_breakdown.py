"""``roofline plot time-breakdown``: where the time of one token goes, per device (the CLI over
roofline.outputs.plot.where_time_goes_chart)."""

import pytest

from roofline.outputs.cli.main import main


def test_time_parts_gathers_terms_by_hand():
    from roofline.outputs import plot

    # 2 us of HBM and 1 us of SRAM-bound ops are memory (3 us); a link's bandwidth (4 us) and its latency (1 us)
    # are the link (5 us); each latency term has its own part.
    terms = {"compute": 1e-6, "memory:hbm": 2e-6, "memory:sram": 1e-6, "interconnect:nvlink": 4e-6,
             "latency:link": 1e-6, "latency:fabric": 7e-6, "latency:handoff": 0.5e-6, "latency:launch": 3e-6}
    parts = plot.time_parts(terms)
    assert parts == pytest.approx({"compute": 1e-6, "memory": 3e-6, "fabric": 7e-6, "hand-off": 0.5e-6,
                                   "link": 5e-6, "launch": 3e-6})


@pytest.mark.slow  # two estimates and a PNG (about 2 s)
def test_cli_time_breakdown_writes_the_chart(tmp_path, capsys):
    out = tmp_path / "time.png"
    rc = main(["plot", "time-breakdown", "--model", "llama-3.1-8b", "--device", "wse3", "2xh100", "--out", str(out)])
    assert rc == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {out}" in capsys.readouterr().out


def test_cli_time_breakdown_unknown_device_is_a_user_error(tmp_path, capsys):
    rc = main(["plot", "time-breakdown", "--model", "llama-3.1-8b", "--device", "no-such-chip",
               "--out", str(tmp_path / "t.png")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "no-such-chip" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "t.png").exists()
