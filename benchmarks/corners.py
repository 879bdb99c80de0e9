"""The four corners of an estimate's phase in one call (``roofline.engine.scalar.Corners``) against one
``Kernel`` call per corner: Llama-3.1-70B on eight H100s, prefill and decode.

    python benchmarks/corners.py [batches]

An estimate evaluates each phase at four corners: the measured device's nominal corner in full, its best
and worst corners for the estimate's range, and the datasheet device's best corner for the two bounds.
Printed per phase: process CPU time per call, the best of ``batches`` (default 7) batches, both ways
alternating in one loop; then the same after ~100 us of other Python before each call (what an estimate
runs between its points: a generated function runs about twice as slowly there as in a tight loop).
Not a test: nothing here fails.
"""

from __future__ import annotations

import sys
import time


def _phase(m, d, phase, prec, pl):
    """The compiled phase, the four tails an estimate binds (device figures, capacities, devices, home) and
    what each keeps."""
    from roofline.hardware.measured import mode_device
    from roofline.llm import inference
    from roofline.vocab import Corner, Mode

    est, ideal = mode_device(d, Mode.ESTIMATE), mode_device(d, Mode.IDEAL)
    cw = inference._compiled(m, est, phase, prec, pl, False, "max")
    tails = []
    for dev, corner in ((est, Corner.NOMINAL), (est, Corner.BEST), (est, Corner.WORST), (ideal, Corner.BEST)):
        vals = dev.values(corner)
        tails.append((*[vals[p] for p in cw.device_paths], *[vals[f"memory.{lv.name}.capacity"] for lv in dev.memory],
                      1.0, pl.home))
    return cw, tails, (None, "estimate", "estimate", "bounds")


def _other_python():
    """About 100 us of unrelated Python: calls through many small functions and a loop over dicts."""
    for f in _FUNCS:
        f(1.0)
    s = 0
    for x in _DICTS:
        s += x["a"]


_NS: dict = {}
exec("\n".join(f"def f{i}(x):\n    y = x + {i}\n    if y > 3:\n        y = y * 2\n    return [y, x]"  # noqa: S102
               for i in range(300)), _NS)
_FUNCS = [_NS[f"f{i}"] for i in range(300)]
_DICTS = [{"a": i, "b": str(i)} for i in range(3000)]


def _batch(fn, n: int) -> float:
    t = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - t) / n * 1e6


def main(batches: int = 7) -> dict:
    """Measure and print; returns the best figures [us per call].

    Parameters
    ----------
    batches : int
        Batches per figure [1].

    Returns
    -------
    dict
    """
    from roofline import get_device
    from roofline.engine.scalar import Corners, Kernel
    from roofline.llm import get_model
    from roofline.llm.precision import Precision
    from roofline.llm.sizes import place
    from roofline.vocab import Phase

    m, d, prec = get_model("llama-3.1-70b"), get_device("h100"), Precision.of("bf16")
    pl = place(m, d, prec, 3, 1234, 8)
    cases = {}
    for phase, values in ((Phase.PREFILL, [3.0, 1234.0]), (Phase.DECODE, [3.0, 1234.0])):
        cw, tails, keeps = _phase(m, d, phase, prec, pl)
        nd, nl = len(cw.device_paths), cw.n_levels
        name = f"<roofline scalar: {cw.name}>"
        corners = Corners(cw.scalar_source, name, tails, keeps, cw.layout, cw.labels)
        kernels = [Kernel(cw.scalar_source, name, t[:nd], t[nd:nd + nl], t[nd + nl], t[-1], cw.layout, cw.labels, k)
                   for t, k in zip(tails, keeps)]
        assert [p.raw for p in corners(values)] == [k(values).raw for k in kernels]
        cases[f"{phase}: one Corners call"] = lambda c=corners, v=values: c(v)
        cases[f"{phase}: four Kernel calls"] = lambda ks=kernels, v=values: [k(v) for k in ks]
    for name, fn in list(cases.items()):
        cases[name + ", after other Python"] = lambda fn=fn: (fn(), _other_python())
    cases["other Python alone"] = _other_python
    runs: dict = {}
    for _ in range(batches):
        for name, fn in cases.items():
            runs.setdefault(name, []).append(_batch(fn, 300 if "Python" in name else 3000))
    alone = min(runs["other Python alone"])
    best = {name: min(v) - (alone if name.endswith("after other Python") else 0.0) for name, v in runs.items()}
    for name, v in best.items():
        print(f"{name:48s} {v:8.2f} us")
    return best


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
