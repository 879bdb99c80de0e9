"""The NumPy evaluator: a compiled workload's outputs over one block of points, reduced to times and the
binding term.

Written for speed: terms that are identically zero are skipped, masks that are the same for every point
become Python branches, and the running maximum, the binding-term index and the totals are updated in
place. Under full overlap an op takes the maximum of its work terms (compute, memory, links) plus its
latency terms; the work time is charged to the work term that binds, each latency to its own term. Positions in the output vector come from :class:`~roofline.engine.layout.OutputLayout`.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from ..vocab import Mode
from .layout import N_LATENCY, OutputLayout
from .pointcode import monotone_outputs, output_texts, staged_source

__all__ = ["evaluate_block", "home_levels"]


def home_levels(working_set, caps, n_levels: int):
    """The fastest level whose capacity holds ``working_set``, point by point (``n_levels`` where none does).

    Parameters
    ----------
    working_set : ndarray
        Bytes per device [B].
    caps : sequence of ndarray or float
        Capacity of each level, fastest first [B].
    n_levels : int
        Number of levels [1].

    Returns
    -------
    ndarray of int
        Level index per point, fastest first [1].

    Examples
    --------
    >>> home_levels(np.array([1e6, 5e9, 1e12]), [50e6, 80e9], 2).tolist()
    [0, 1, 2]
    """
    h = np.full(np.shape(working_set), n_levels, dtype=np.int64)
    for i in reversed(range(n_levels)):
        h = np.where(working_set <= caps[i], i, h)
    return h


def _staged(cw, args, out, lazy: bool = True):
    """``cw``'s NumPy function as a generator of the totals then each op's outputs
    (:func:`~roofline.engine.pointcode.staged_source`), made once per compiled workload and kind of arguments,
    and the buffers it writes into (None: it makes new arrays), the flops and bytes straight into ``out``'s
    arrays where it has them; None where its source is not of that form. With ``lazy``, each op's compute
    term is computed only when sent for (``send(2)``)."""
    shapes = {np.shape(a) for a in args if np.ndim(a)}
    pooled = len(shapes) == 1 and all(np.ndim(a) == 0 or a.dtype == np.float64 for a in args)
    names = cw.__dict__.get("_np_arg_names", False)
    if names is False:
        names = cw._np_arg_names = _arg_names(cw)
    key = tuple(n for n, a in zip(names or (), args) if np.ndim(a)) if pooled and names else None
    made = cw.__dict__.setdefault("_np_staged", {})
    if (key, lazy) not in made:
        made[key, lazy] = _make_staged(cw, key, lazy)
    fn, nbuf, heads = made[key, lazy]
    if fn is None:
        return None
    if nbuf is None:
        return fn(*args)
    bufs = _pool("staged", nbuf, next(iter(shapes)))
    mine = [(heads[p], out[n]) for p, n in _HEADS if p in heads and out.get(n) is not None
            and out[n].dtype == np.float64 and out[n].shape == bufs[0].shape]
    if mine:  # the total's last ufunc writes into the caller's array; nothing writes that buffer afterwards
        bufs = list(bufs)
        for k, a in mine:
            bufs[k] = a
    return fn(bufs, *args)


#: the totals the staged function may write straight into the caller's arrays: (position, output name)
_HEADS = ((OutputLayout.FLOPS, "flops"), (OutputLayout.BYTES, "bytes"))


def _arg_names(cw):
    import inspect

    try:
        return list(inspect.signature(cw.func).parameters)
    except (TypeError, ValueError):
        return None


def _deferred(lay) -> list:
    """The offsets the staged function computes only when the transients are sent for (``send(True)``): the
    transient terms of the slower levels, read only where activations live there."""
    return [lay.transient(i) for i in range(1, lay.n_levels)]


def _make_staged(cw, key, lazy: bool):
    lay = cw.layout
    deferred = _deferred(lay)
    later = [lay.COMPUTE] if lazy else []
    src = staged_source(cw.numpy_source, cw.n_ops, lay.per_op, key, deferred, on_demand=later) if cw.numpy_source else None
    if src is None:
        return None, None, None
    src, nbuf, heads = src if key is not None else (src, None, None)
    ns = dict(cw.func.__globals__, _np=np)
    exec(compile(src, f"<roofline staged: {cw.name}>", "exec"), ns)  # noqa: S102 - from the workload's own source
    return ns["_staged"], nbuf, heads


#: the reductions of a whole array, called without ``ndarray.max``'s Python wrapper
_MIN, _MAX = np.minimum.reduce, np.maximum.reduce


def _is_array(x) -> bool:
    """``x`` is an array of at least one dimension (not a scalar, not a 0-d array)."""
    return isinstance(x, np.ndarray) and x.ndim != 0


#: the smallest block whose terms are bounded from their expressions (:func:`_point_bounds`: two evaluations
#: of the whole function on numbers, ~15 us here, against a reduction per term of ~2 us on a small block)
#: [points]
BOUNDS_MIN = 4096

_POOLS = threading.local()
#: the largest block whose scratch arrays a thread keeps for the next block [points]
POOL_MAX = 1 << 16


def _pool(kind: str, n: int, shape, dtype=float) -> list:
    """``n`` scratch arrays of ``shape`` and ``dtype`` for this thread (reused block after block: no
    allocation, no page faults); their contents are dead once the block that filled them is evaluated."""
    if math.prod(shape) > POOL_MAX:  # a block this large is not kept between calls
        return [np.empty(shape, dtype=dtype) for _ in range(n)]
    pools = _POOLS.__dict__
    have = pools.get(kind)
    if have is None or have[0] != shape or len(have[1]) < n:
        have = pools[kind] = (shape, [np.empty(shape, dtype=dtype) for _ in range(n)])
    return have[1]


def _filled(a, shape, value):
    """``a`` (or a new array of ``shape``, of ``value``'s type) filled with ``value``."""
    if a is None:
        return np.full(shape, value)
    a.fill(value)
    return a


class _Block:
    """The state of one block: shapes, homes and masks shared by every op."""

    def __init__(self, cw, args, caps, devs, hm, out=None):
        self.cw, self.caps = cw, caps
        self.nl = cw.n_levels
        self.layout = OutputLayout(cw.n_levels, cw.n_links)
        self.layout_deferred = _deferred(self.layout)
        self.shape = np.broadcast_shapes(*(np.shape(a) for a in list(args) + list(caps) + [devs]
                                           + ([hm] if hm is not None else [])))
        self.out = out if out and all(v.shape == self.shape for v in out.values()) else {}
        self.npts = math.prod(self.shape)
        self.stages = _staged(cw, args, self.out, lazy=self.npts >= BOUNDS_MIN)  # bounded: compute read lazily
        self.values = cw.func(*args) if self.stages is None else next(self.stages)
        if hm is None and self.values[OutputLayout.WORKING_SET] is None:  # deferred by the staged function
            self.values[OutputLayout.WORKING_SET] = self.stages.send(True)[0]
        if hm is None:
            ws = np.asarray(self.values[OutputLayout.WORKING_SET], dtype=float) / devs
            h = home_levels(ws, caps, self.nl)
        else:
            h = np.broadcast_to(hm, self.shape)
        self.uniform = hm is not None and np.ndim(hm) == 0
        self.fits, self.hc = self.out.get("fits"), self.out.get("home")
        if self.uniform:  # one forced level for every point
            self.fits = _filled(self.fits, self.shape, int(hm) < self.nl)
            self.hc = _filled(self.hc, self.shape, min(int(hm), self.nl - 1))
        else:
            self.fits = np.less(h, self.nl, out=self.fits)
            self.hc = np.minimum(h, self.nl - 1, out=self.hc)
        hmin = int(self.hc.flat[0]) if self.uniform else None
        self.masks = [True] + [(i <= hmin) if self.uniform else (self.hc >= i) for i in range(1, self.nl)]
        self.caps_scalar = all(np.ndim(c) == 0 for c in caps)
        self.tbuf = self.plan = None
        self.act_keys, self.act_homes = _act_keys(cw), {}
        self.bounds = None if self.stages is None or self.npts < BOUNDS_MIN else _point_bounds(cw, args)

    def bound(self, o: int, p: int):
        """(least, greatest, exact) bounds over the block of op ``o``'s output at offset ``p``
        (:func:`_point_bounds`; exact: they are its extremes), or None."""
        if self.bounds is None:
            return None
        mono, lo, hi = self.bounds
        k = OutputLayout.HEAD + o * self.layout.per_op + p
        return (lo[k], hi[k], mono[k] == 2) if mono[k] and math.isfinite(hi[k]) else None

    def _activation_home(self, abytes, bound=None):
        """The one activation rule: the fastest level that holds them, never slower than the home (``bound``:
        bounds on ``abytes``, tried before its greatest value is read)."""
        if self.uniform and self.caps_scalar and (bound is not None and bound[1] <= self.caps[0]
                                                  or _MAX(abytes, axis=None) <= self.caps[0]):
            return 0  # every point's activations fit the fastest level
        ha = np.full(np.shape(abytes), self.nl - 1, dtype=np.int64)
        for i in reversed(range(self.nl)):
            ha = np.where(abytes <= self.caps[i], i, ha)
        return np.minimum(ha, self.hc)

    def op_terms(self, o: int, mode: Mode) -> tuple[list, list, object, list]:
        """Op ``o``'s work terms (compute, levels, links) and latency terms of ``mode`` (None where
        identically zero), its count, and per work term its bounds over the block or None."""
        raw = self.values[self.layout.op(o)] if self.stages is None else next(self.stages)
        if self.plan is None:
            self.plan = _plan(self.cw, mode)
        comp, res, tr, links, lats, act, cnt = self.plan[o]
        terms: list = [None] * (1 + self.nl + self.layout.n_links)
        if comp is not None:  # computed by the staged function when first read (it may never bind)
            terms[0] = raw[comp] if raw[comp] is not None else _Later(self.stages, raw, comp)
        for i, r in res:
            m = self.masks[i]
            if m is not False:
                terms[1 + i] = raw[r] if m is True else np.where(m, raw[r], 0.0)
        for k, p in links:
            terms[1 + self.nl + k] = raw[p]
        tb = None if self.bounds is None else self._term_bounds(o, comp, res, links)
        if tr:
            self._add_transient(terms, tb, raw, tr, (o, act), self.act_keys[o])
        lat: list = [None] * N_LATENCY
        for j, p in lats:
            lat[j] = raw[p]
        return terms, lat, raw[cnt], tb

    def _term_bounds(self, o: int, comp, res, links) -> list:
        """Per work term of op ``o``, its bounds (:meth:`bound`; None where it is masked or has none)."""
        tb: list = [None] * (1 + self.nl + self.layout.n_links)
        if comp is not None:
            tb[0] = self.bound(o, comp)
        for i, r in res:
            if self.masks[i] is True:
                tb[1 + i] = self.bound(o, r)
        for k, p in links:
            tb[1 + self.nl + k] = self.bound(o, p)
        return tb

    def _add_transient(self, terms, tb, raw, tr, op_act, key):
        o, act = op_act
        ha = self.act_homes.get(key)
        if ha is None:  # once per value of the activation bytes: ops that share it share its home
            a = raw[act]
            a = a if isinstance(a, np.ndarray) else np.asarray(a, dtype=float)
            ha = self.act_homes[key] = self._activation_home(a, self.bound(o, act))
        one = not _is_array(ha)
        if any(raw[t] is None and (not one or i <= ha) for i, t in tr):  # the staged function's deferred ones
            missing = [t for t in self.layout_deferred if raw[t] is None]
            for t, v in zip(missing, self.stages.send(True), strict=True):
                raw[t] = v
        for i, t in tr:
            if one:
                if i > ha:
                    continue
                a = raw[t]
            else:
                a = raw[t] if i == 0 else np.where(ha >= i, raw[t], 0.0)
            b = self.bound(o, t) if tb is not None and (one or i == 0) else None
            if terms[1 + i] is None:
                terms[1 + i] = a
            else:  # into a scratch array of this level: the op's terms are dead once the op is evaluated
                if self.tbuf is None:
                    self.tbuf = _pool("transient", self.nl, self.shape)
                b = _sum_bounds(terms[1 + i], tb[1 + i], b) if tb is not None else None
                terms[1 + i] = _Sum.of(terms[1 + i], a, self.tbuf[i])
            if tb is not None:
                tb[1 + i] = b


def _point_bounds(cw, args):
    """Bounds over the block on every output of ``cw``'s NumPy source: which outputs they bound
    (:func:`~roofline.engine.pointcode.monotone_outputs`), the outputs at each array argument's least value
    and at its greatest (the same arithmetic on numbers: the same rounding); None where no output is
    monotone, or an argument is negative, not finite or not of float64."""
    names = cw.__dict__.get("_np_arg_names")
    arrays = tuple(n for n, a in zip(names or (), args) if np.ndim(a))
    if not names or not arrays:
        return None
    flags = cw.__dict__.setdefault("_np_mono", {})
    if arrays not in flags:
        m = monotone_outputs(cw.numpy_source, cw.n_ops, cw.layout.per_op, arrays)
        flags[arrays] = m if m and any(m) else None
    if flags[arrays] is None:
        return None
    lo, hi = [], []
    for a in args:
        if np.ndim(a):
            if a.dtype != np.float64:
                return None
            least, most = _MIN(a, axis=None), _MAX(a, axis=None)
        else:
            least = most = a
        if not (least >= 0 and math.isfinite(most)):  # NaN fails too
            return None
        lo.append(least)
        hi.append(most)
    try:
        with np.errstate(all="ignore"):
            return flags[arrays], cw.func(*lo), cw.func(*hi)
    except (ArithmeticError, TypeError, ValueError):
        return None


def _sum_bounds(r, rb, ab):
    """Bounds on ``r + a`` from ``r``'s (``rb``; a number is its own) and ``a``'s (``ab``): a sum rounded to
    nearest is monotone in each operand, so a number plus ``a``'s extremes is the sum's; None where one is
    missing or not finite."""
    if not _is_array(r) and not isinstance(r, _Sum):
        rb = (r, r, True)
    if rb is None or ab is None:
        return None
    lo, hi = rb[0] + ab[0], rb[1] + ab[1]
    exact = ab[2] and rb[0] == rb[1] and not _is_array(r)
    return (lo, hi, exact) if math.isfinite(lo) and math.isfinite(hi) else None


def _act_keys(cw) -> list:
    """Per op, a key equal for two ops whose activation bytes are the same value (their printed expression),
    or the op's index where the source gives none; made once per compiled workload."""
    keys = cw.__dict__.get("_np_act_keys")
    if keys is None:
        texts = output_texts(cw.numpy_source, cw.n_ops, cw.layout.per_op, cw.layout.act_bytes) \
            if cw.numpy_source else None
        keys = cw._np_act_keys = texts or list(range(cw.n_ops))
    return keys


class _Sum:
    """A number plus an array, added only when read (``get``): a term that never reaches the running maximum
    is never added. Its greatest value is ``r + max(a)`` to the last bit (a sum with a finite number is
    monotone under rounding; a NaN stays a NaN)."""

    __slots__ = ("a", "buf", "r")

    def __init__(self, r, a, buf):
        self.r, self.a, self.buf = r, a, buf

    @staticmethod
    def of(r, a, buf):
        """``r + a`` into ``buf``, now or (a finite number plus an array) when read."""
        if not _is_array(r) and _is_array(a) and math.isfinite(r):
            return _Sum(r, a, buf)
        return np.add(r, a, out=buf)

    def max(self):
        """The greatest value of the sum."""
        return self.r + _MAX(self.a, axis=None)

    def get(self):
        """The sum, as an array."""
        return np.add(self.r, self.a, out=self.buf)


class _Later:
    """An output the staged function computes only when asked (``send(2)``): read by ``get``."""

    __slots__ = ("raw", "stages", "t")

    def __init__(self, stages, raw, t):
        self.stages, self.raw, self.t = stages, raw, t

    def get(self):
        """The output (computed now, the first time)."""
        if self.raw[self.t] is None:
            self.raw[self.t] = self.stages.send(2)[0]
        return self.raw[self.t]


def _real(x):
    """``x`` with a pending sum added, or a pending output computed."""
    return x.get() if isinstance(x, (_Sum, _Later)) else x


def _plan(cw, mode: Mode) -> list:
    """Per op, where its live outputs sit: compute, (level, resident), (level, transient), (link, term),
    (latency, term) of ``mode``, act bytes, count; made once per compiled workload and mode."""
    plans = cw.__dict__.setdefault("_np_plan", {})
    if mode not in plans:
        lay = cw.layout
        out = []
        for z in cw.zero_outputs:
            lats = [] if mode is Mode.IDEAL else \
                [(j, lay.latency(j, bound=mode is Mode.LATENCY_BOUND)) for j in range(N_LATENCY)]
            out.append((None if z[lay.COMPUTE] else lay.COMPUTE,
                        [(i, lay.resident(i)) for i in range(lay.n_levels) if not z[lay.resident(i)]],
                        [(i, lay.transient(i)) for i in range(lay.n_levels) if not z[lay.transient(i)]],
                        [(k, lay.link(k)) for k in range(lay.n_links) if not z[lay.link(k)]],
                        [(j, p) for j, p in lats if not z[p]], lay.act_bytes, lay.count))
        plans[mode] = out
    return plans[mode]


def _combine(terms, lat, cnt, overlap: str, shape, with_bound: bool, bufs, wins=None, tb=None, wb=None):
    """An op's time (max or sum of its work terms, plus its latencies, times its count), its work part, its
    latency parts, and in ``idx`` the work term that binds it; the last item is that term's index when it
    is the same at every point of the block (one live work term, or one that wins everywhere), else None.
    The time and the work part are in ``bufs`` (``best, work, time, idx, gt``), valid until the next op, or
    numbers where every term and the count are."""
    if overlap != "max":  # every term is read
        terms = [_real(x) for x in terms]
    live = [(j, x) for j, x in enumerate(terms) if x is not None] or [(0, 0.0)]
    if overlap == "max":
        work, single = _max_terms(live, cnt, with_bound, bufs, wins, tb, wb)
    else:
        idx = bufs[3]
        single = live[0][0] if len(live) == 1 else None
        work = np.zeros(shape)
        for _, x in live:
            work += x
        work *= cnt
        if with_bound and single is None:
            full = [np.zeros(shape) if x is None else x for x in terms]
            idx[...] = np.argmax(np.stack(np.broadcast_arrays(*[np.asarray(x, dtype=float) for x in full])), axis=0)
    lats = [None if x is None else x * cnt for x in lat]
    added = [x for x in lats if x is not None]
    if not added:
        return work, work, lats, single
    extra = added[0]
    for x in added[1:]:  # scalars stay scalars: one pass over the points for every latency of the op
        extra = extra + x
    if not _is_array(work) and not _is_array(extra):  # one number: the same addition, no pass
        return work + extra, work, lats, single
    return np.add(work, extra, out=bufs[2]), work, lats, single


def _max_terms(live, cnt, with_bound: bool, bufs, wins=None, tb=None, wb=None):
    """The largest live work term times ``cnt`` (in ``bufs``' work buffer) and the index of the term that
    binds at every point, or None with ``idx`` filled point by point (the first term wins a tie; NaN never
    wins). A term whose greatest value is below the running maximum's least never wins and changes nothing;
    one whose least is above the running maximum's greatest wins everywhere (a NaN fails both tests). Each
    test is tried first on the bounds known without a pass (``tb``: per term, from
    :func:`_point_bounds`), then on the extremes, each found when a test first reads it; the running
    maximum's after a pass are bounds from those of its two operands (the greatest exact, the least a lower
    bound): no array is reduced twice. ``wins`` (a set, updated here): the terms that won everywhere in this
    op's previous block; for those the test that says so is tried first (the same outcome). ``wb`` (a list
    of one): set to bounds on the result known without a pass, or None."""
    if tb is None:
        return _max_terms_plain(live, cnt, with_bound, bufs, wins)
    best, work, _, idx, gt = bufs
    j0, x0 = live[0]
    ce, single, mixed = _Ext(x0, tb[j0] if tb else None), j0, False
    for j, x in live[1:]:
        xe = _Ext(x, tb[j] if tb else None)
        if wins is not None and not xe.one and j in wins:
            if _below(ce, xe):  # it wins everywhere again
                single, mixed, ce = j, False, xe
                continue
            wins.discard(j)
        if _below(xe, ce):
            continue
        if _below(ce, xe):
            single, mixed, ce = j, False, xe
            if wins is not None and not xe.one:
                wins.add(j)
            continue
        xe.x = x = _real(xe.x)
        cur = _real(ce.x)
        if with_bound:
            np.greater(x, cur, out=gt)
            k = int(np.count_nonzero(gt))
            if k == gt.size:  # this term wins everywhere: the earlier ones no longer bind anywhere
                single, mixed, ce = j, False, xe  # and the maximum is x, to the bit (greater everywhere)
                continue
            if not k and ce.lo > 0 and not math.isnan(xe.hi):  # never above a positive maximum, no NaN:
                continue  # the maximum is the running one, to the bit (no tie of +0.0 and -0.0)
            if k:
                if not mixed:
                    idx.fill(single)
                    mixed = True
                np.copyto(idx, j, where=gt)
        lo, hi = _bounds_of_maximum((ce.lo, ce.hi), xe.lo, xe.hi)  # each read by the two tests
        ce = _Ext(np.maximum(cur, x, out=best), None, lo, hi)
    if wb is not None:
        wb[0] = _times_bounds(ce, cnt)
    cur = _real(ce.x)
    if _is_array(cnt) or (_is_array(cur) and cnt != 1):  # times one: the same array, no pass
        cur = np.multiply(cur, cnt, out=work)
    elif not _is_array(cur):  # one number for every point: stays one number (no pass to fill a buffer)
        cur = cur * cnt
    return cur, (None if mixed else single)


def _times_bounds(ce, cnt):
    """Bounds on ``ce``'s term times ``cnt`` from those known of the term (a product with a number >= 0 is
    monotone), or None."""
    lo = ce.lo if ce.lo is not None else ce.blo
    hi = ce.hi if ce.hi is not None else ce.bhi
    if lo is None or hi is None or _is_array(cnt) or not (0 <= cnt < math.inf):
        return None
    return lo * cnt, hi * cnt


class _Ext:
    """A term (an array, a number or a pending :class:`_Sum`) and its least and greatest values over the
    block: each found by a reduction when first read (``least``, ``greatest``), or, with ``cheap``, a bound
    known without one (``bnd``: least, greatest, whether they are the extremes) where there is one. A number
    is its own extremes."""

    __slots__ = ("bhi", "blo", "hi", "lo", "one", "x")

    def __init__(self, x, bnd=None, lo=None, hi=None):
        self.x, self.one = x, not _is_array(x) and not isinstance(x, (_Sum, _Later))
        self.lo, self.hi = (x, x) if self.one else (lo, hi)
        self.blo, self.bhi = (None, None) if bnd is None else bnd[:2]
        if bnd is not None and bnd[2] and not self.one:  # the bounds are the extremes
            self.lo, self.hi = self.blo, self.bhi

    def least(self, cheap: bool = False):
        """The least value (with ``cheap``, a lower bound where one is known)."""
        if self.lo is None:
            if cheap and self.blo is not None:
                return self.blo
            self.x = _real(self.x)
            self.lo = _MIN(self.x, axis=None)
        return self.lo

    def greatest(self, cheap: bool = False):
        """The greatest value (with ``cheap``, an upper bound where one is known)."""
        if self.hi is None:
            if cheap and self.bhi is not None:
                return self.bhi
            if isinstance(self.x, _Later):
                self.x = self.x.get()
            self.hi = self.x.max() if isinstance(self.x, _Sum) else _MAX(self.x, axis=None)
        return self.hi


def _below(a: _Ext, b: _Ext) -> bool:
    """Every value of ``a`` is below every value of ``b``: told by the bounds, else by the extremes."""
    return a.greatest(True) < b.least(True) or a.greatest() < b.least()


def _max_terms_plain(live, cnt, with_bound: bool, bufs, wins=None):
    """:func:`_max_terms` where no term has bounds known without a pass (a small block: no object per term).
    The largest live work term times ``cnt`` (in ``bufs``' work buffer) and the index of the term that
    binds at every point, or None with ``idx`` filled point by point (the first term wins a tie; NaN never
    wins). A term whose greatest value is below the running maximum's least never wins and changes nothing;
    one whose least is above the running maximum's greatest wins everywhere (a NaN fails both tests). Each
    extreme is found when a test first reads it, and the running maximum's after a pass are bounds from
    those of its two operands (the greatest exact, the least a lower bound): no array is reduced twice.
    ``wins`` (a set, updated here): the terms that won everywhere in this op's previous block; for those the
    test that says so is tried first (two reductions, not four, when it holds again; the same outcome)."""
    best, work, _, idx, gt = bufs
    j0, cur = live[0]
    single, mixed, lo, hi, cur = j0, False, None, None, _real(cur)
    for j, x in live[1:]:
        one = not _is_array(x) and not isinstance(x, _Sum)
        xmin = None
        if wins is not None and not one and j in wins:
            x = _real(x)
            if hi is None:
                hi = _MAX(cur, axis=None) if _is_array(cur) else cur
            xmin = _MIN(x, axis=None)
            if xmin > hi:  # its greatest, the new maximum's, is reduced only when a later test reads it
                single, mixed, cur, lo, hi = j, False, x, xmin, None
                continue
            wins.discard(j)
        if lo is None:
            lo = _MIN(cur, axis=None) if _is_array(cur) else cur
        xmax = x if one else x.max() if isinstance(x, _Sum) else _MAX(x, axis=None)
        if xmax < lo:
            continue
        x = _real(x)
        if hi is None:
            hi = _MAX(cur, axis=None) if _is_array(cur) else cur
        if xmin is None:
            xmin = x if one else _MIN(x, axis=None)
        if xmin > hi:
            single, mixed, cur, lo, hi = j, False, x, xmin, xmax
            if wins is not None and not one:
                wins.add(j)
            continue
        if with_bound:
            np.greater(x, cur, out=gt)
            k = int(np.count_nonzero(gt))
            if k == gt.size:  # this term wins everywhere: the earlier ones no longer bind anywhere
                single, mixed = j, False
            elif k:
                if not mixed:
                    idx.fill(single)
                    mixed = True
                np.copyto(idx, j, where=gt)
        cur = np.maximum(cur, x, out=best)
        lo, hi = _bounds_of_maximum((lo, hi), xmin, xmax)
    if _is_array(cnt) or (_is_array(cur) and cnt != 1):  # times one: the same array, no pass
        cur = np.multiply(cur, cnt, out=work)
    elif not _is_array(cur):  # one number for every point: stays one number (no pass to fill a buffer)
        cur = cur * cnt
    return cur, (None if mixed else single)


def _bounds_of_maximum(ext, xmin, xmax):
    """Bounds on the extremes of ``maximum(a, x)`` from ``a``'s (``ext``) and ``x``'s: the greatest is the
    greater of the two, the least at least the greater of the two least; NaN anywhere: (NaN, NaN), which
    fails every later test as the reduction of an array holding a NaN would."""
    if math.isnan(ext[0]) or math.isnan(ext[1]) or math.isnan(xmin) or math.isnan(xmax):
        return math.nan, math.nan
    return max(ext[0], xmin), max(ext[1], xmax)


class _Acc:
    """The work time charged to each reported term, point by point (labels × points). With ``lazy``, a row is
    written when first charged (``0.0 + w``, as onto zeros) and a row never charged is all zeros unread."""

    def __init__(self, nlab: int, npts: int, lazy: bool):
        self.rows = _pool("acc", 1, (nlab, npts))[0] if lazy else np.zeros((nlab, npts))
        self.seen = set() if lazy else set(range(nlab))
        self.npts = npts
        self.bnd = {} if lazy else dict.fromkeys(range(nlab), (0.0, 0.0))  # bounds on each row, or None

    def add(self, j: int, w, b=None) -> None:
        """Charge ``w`` (``b``: bounds on it, or None) to row ``j``."""
        if j in self.seen:
            self.rows[j] += w
            r = self.bnd.get(j)
            self.bnd[j] = None if r is None or b is None else (r[0] + b[0], r[1] + b[1])
        else:
            np.add(0.0, w, out=self.rows[j])
            self.seen.add(j)
            self.bnd[j] = None if b is None else (0.0 + b[0], 0.0 + b[1])

    def zero(self, rows) -> None:
        for j in rows:
            if j not in self.seen:
                self.rows[j].fill(0.0)
                self.seen.add(j)
                self.bnd[j] = (0.0, 0.0)


def _charge(acc: _Acc, work, idx, single, n_work: int, shape, wb=None) -> None:
    """Add an op's work time (``wb``: bounds on it, or None) to the term that binds it, point by point."""
    w = work.reshape(-1) if _is_array(work) and work.shape == shape else np.broadcast_to(work, shape).reshape(-1)
    if single is not None:
        acc.add(single, w, wb)
        return
    acc.zero(range(n_work))
    for j in range(n_work):  # each row gains the work at some points: bounds from both cases
        r = acc.bnd.get(j)
        ok = r is not None and wb is not None and not any(math.isnan(v) for v in (*r, *wb))
        acc.bnd[j] = (min(r[0], r[0] + wb[0]), max(r[1], r[1] + wb[1])) if ok else None
    flat = idx.reshape(-1) * acc.npts
    flat += np.arange(acc.npts)
    acc.rows.reshape(-1)[flat] += w  # each point once: no repeated index, so the fancy add is exact


def _binding(acc: _Acc, lat_acc, lay, npts: int, shape, detail: bool, into=None) -> dict:
    """The term that binds most of the time at each point: each op's work term with its work time, and each
    latency term with its own. A row never charged is zeros: it can bind only where every row before it is
    negative, so it is skipped unless the first row has a negative value. A latency total that is the same
    at every point is compared as that one number (its row is written only with ``detail``)."""
    nlab = lay.n_reported
    consts = {}
    for j in range(N_LATENCY):
        x = lat_acc[j]
        if _is_array(x) or detail:
            if _is_array(x) or x != 0.0:
                acc.add(lay.term_latency(j), x, None if _is_array(x) else (x, x))
        elif x != 0.0:  # NaN included, as a row of NaN would be
            consts[lay.term_latency(j)] = x
    b0 = acc.bnd.get(0)
    if 0 not in acc.seen or not (b0 is not None and b0[0] >= 0) and np.less(acc.rows[0], 0.0).any():
        for j, x in consts.items():  # every row is read: the constant ones written as rows
            acc.add(j, x, (x, x))
        consts = {}
        acc.zero([0] + ([] if 0 not in acc.seen else list(range(nlab))))
    bi = np.zeros(npts, dtype=np.int64) if into is None else into.reshape(-1)
    if into is not None:
        bi.fill(0)
    rows = {j: acc.rows[j] for j in acc.seen - {0}} | consts
    cur, cb, g = acc.rows[0], acc.bnd.get(0), _pool("binding mask", 1, (npts,), bool)[0]
    order = sorted(rows)
    for n, j in enumerate(order):
        rb = (rows[j], rows[j]) if j in consts else acc.bnd.get(j)
        if cb is not None and rb is not None and rb[1] < cb[0]:
            continue  # below the running maximum everywhere: no point changes, the maximum stays (to the bit)
        if cb is not None and rb is not None and rb[0] > cb[1]:  # above it everywhere: the new maximum
            bi.fill(j)
            cur, cb = rows[j], rb
            continue
        np.greater(rows[j], cur, out=g)
        k = int(np.count_nonzero(g))
        if k == npts:
            bi.fill(j)
        elif k:
            np.copyto(bi, j, where=g)
        if n + 1 < len(order):  # the running maximum, read by the next row only
            cur = np.maximum(cur, rows[j], out=_pool("binding", 1, (npts,))[0])
            cb = None if cb is None or rb is None else _bounds_of_maximum(cb, rb[0], rb[1])
    out = {"bound_index": bi.reshape(shape) if into is None else into}
    if detail:
        out["term_times"] = acc.rows.reshape((nlab,) + shape)
    return out


def evaluate_block(cw, args, caps, devs, hm, with_bound: bool, detail: bool, mode: Mode = Mode.ESTIMATE,
                   out: dict | None = None) -> dict:
    """Evaluate compiled workload ``cw`` over one block of points.

    Parameters
    ----------
    cw : roofline.engine.compiled.CompiledWorkload
        The compiled workload.
    args : list of ndarray
        Shape values [1] then figure values [each figure's SI unit], in ``cw``'s argument order.
    caps : list of ndarray
        Capacity of each memory level, fastest first [B].
    devs : ndarray
        Devices the working set is spread over [1].
    hm : ndarray or None
        A forced home level per point, or None (the fastest level that holds the working set).
    with_bound : bool
        Also find the binding term.
    detail : bool
        Also return ``term_times`` and ``term_totals`` [s].
    mode : Mode
        Which latency terms to add: none (``ideal``), the bound's or the estimate's.
    out : dict of ndarray, optional
        Arrays of the block's shape to write the outputs of those names into (the caller's slices of a
        larger result: no copy); the outputs not in it are made.

    Returns
    -------
    dict of ndarray
        ``time_s`` [s], ``flops`` [FLOP], ``bytes`` [B], ``home``, ``fits``, ``arithmetic_intensity``
        [FLOP/B], ``attainable_flops_per_s`` [FLOP/s] and, with ``with_bound``, ``bound_index``; those
        named in ``out`` are its arrays.
    """
    blk = _Block(cw, args, caps, devs, hm, out)
    shape, npts, lay, out = blk.shape, blk.npts, blk.layout, blk.out
    acc = _Acc(lay.n_reported, npts, lazy=not detail) if with_bound else None  # term_times with detail
    total = out.get("time_s")
    total = _pool("total", 1, shape)[0] if total is None else total
    lat_acc, sums = _run_ops(blk, mode, acc, total, detail)
    res = _totals(blk, total, out)
    if with_bound:
        res.update(_binding(acc, lat_acc, lay, npts, shape, detail, out.get("bound_index")))
    if detail:
        res["term_totals"] = sums
    return res


def _run_ops(blk: _Block, mode: Mode, acc, total, detail: bool):
    """Every op of the block in turn: its time added to ``total``, its work time charged to the term that
    binds it in ``acc`` (None: no binding term wanted); the latency totals and, with ``detail``, each
    term's total."""
    cw, shape, lay = blk.cw, blk.shape, blk.layout
    with_bound = acc is not None
    lat_acc: list = [0.0] * N_LATENCY
    sums = np.zeros((lay.n_reported,) + shape) if detail else None
    bufs = (*_pool("eval", 3, shape), _pool("index", 1, shape, np.int64)[0] if with_bound else None,
            _pool("mask", 1, shape, bool)[0] if with_bound else None)
    wins = cw.__dict__.setdefault("_np_wins", {}).setdefault(mode, [set() for _ in range(cw.n_ops)])
    wb: list = [None]  # bounds on each op's work time, from _max_terms
    for o in range(cw.n_ops):
        wb[0] = None
        terms, lat, cnt, tb = blk.op_terms(o, mode)
        t, work, lats, single = _combine(terms, lat, cnt, cw.overlap, shape, with_bound, bufs, wins[o], tb, wb)
        if o and _plus_zero(t):
            pass  # x + 0.0 is x but for x = -0.0, and a total begun as 0.0 + t is never -0.0
        else:
            np.add(total if o else 0.0, t, out=total)  # the first op onto zeros, as every later one
        if with_bound:
            if not (single is not None and _plus_zero(work)):  # +0.0: the row gains nothing (or stays unread)
                _charge(acc, work, bufs[3], single, lay.n_work, shape, wb[0])
            for j, x in enumerate(lats):
                if x is not None:
                    lat_acc[j] = lat_acc[j] + (np.broadcast_to(x, shape).reshape(-1) if _is_array(x) else float(x))
        if detail:
            for j, x in enumerate(list(terms) + list(lat)):
                x = _real(x)
                if x is not None:
                    sums[j] += np.broadcast_to(np.asarray(x, dtype=float) * cnt, shape)
    if not cw.n_ops:
        total.fill(0.0)
    return lat_acc, sums


def _plus_zero(x) -> bool:
    """``x`` is the number +0.0 (not an array, not -0.0): adding it to a sum begun from +0.0 changes nothing."""
    return not _is_array(x) and x == 0.0 and math.copysign(1.0, x) > 0


def _totals(blk: _Block, total, out: dict) -> dict:
    """The block's totals, into ``out``'s arrays where it has them (``total`` is ``out``'s time or scratch)."""
    v = blk.values
    every = blk.uniform and bool(blk.fits.flat[0]) if blk.npts else False
    res = {"home": blk.hc, "fits": blk.fits}  # made for this block, or out's
    if "time_s" in out:
        if not every:
            np.copyto(total, np.nan, where=np.logical_not(blk.fits))
        res["time_s"] = total
    else:
        res["time_s"] = np.array(total) if every else np.where(blk.fits, total, np.nan)  # total is scratch
    for k, pos in (("flops", OutputLayout.FLOPS), ("bytes", OutputLayout.BYTES)):
        if k in out and v[pos] is out[k]:  # written there by the staged function
            res[k] = out[k]
            continue
        x = np.broadcast_to(np.asarray(v[pos], dtype=float), blk.shape)
        res[k] = np.array(x) if k not in out else out[k]
        if k in out:
            np.copyto(out[k], x)
    with np.errstate(divide="ignore", invalid="ignore"):
        res["arithmetic_intensity"] = np.divide(res["flops"], res["bytes"], out=out.get("arithmetic_intensity"))
        res["attainable_flops_per_s"] = np.divide(res["flops"], res["time_s"], out=out.get("attainable_flops_per_s"))
    return res
