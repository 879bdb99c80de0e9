"""Tidy tables written to CSV or Parquet chunk by chunk, with pyarrow's writers, atomically.

A sweep of any size is written as it is computed: each chunk is one Parquet row group, or one run of CSV
lines (the header once). pyarrow formats CSV in C++ (several times faster than pandas' ``to_csv``) and
releases the GIL while it does, so the next chunk is evaluated meanwhile. The file appears only when it
is complete (:func:`roofline._paths.atomic_output`): an interrupted sweep leaves any earlier file as it was.

Columns that are categorical in pandas (the binding term, the device, the model) travel as dictionary
arrays: one byte per row in memory and in Parquet; CSV spells them out. A frame's ``attrs`` (its units
and the constants of each system) go into the Parquet file's metadata.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from functools import lru_cache
from pathlib import Path

import numpy as np

from .._paths import atomic_output
from ..errors import InputError

__all__ = ["FORMATS", "frame_format", "FrameWriter", "CsvBytes", "write_frame", "arrow_array", "arrow_labels"]

#: file suffixes and the format each one writes
FORMATS = {".csv": "csv", ".parquet": "parquet"}


def frame_format(path) -> str:
    """The format of ``path`` from its suffix (``csv`` or ``parquet``).

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.

    Returns
    -------
    str

    Raises
    ------
    InputError
        Any other suffix.

    Examples
    --------
    >>> frame_format("grid.PARQUET")
    'parquet'
    """
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise InputError(f"cannot write {path}: use a .csv or .parquet file")
    return fmt


def _pyarrow(fmt: str):
    """pyarrow, or None for CSV without it (pandas then writes, several times slower)."""
    try:
        import pyarrow as pa
    except ImportError:
        if fmt == "csv":
            return None
        raise InputError("writing Parquet needs pyarrow: pip install 'roofline[parquet]'") from None
    return pa


def arrow_array(values, pa):
    """A pyarrow array over a one-dimensional NumPy array, without a copy where the layouts agree.

    ``pa.array`` asks whether its argument is a pandas object and so imports pandas (about 0.25 s of a
    process's start); building from the array's buffer does not. Booleans are packed into Arrow's bits.

    Parameters
    ----------
    values : numpy.ndarray
        Numbers or booleans, one dimension.
    pa : module
        pyarrow.

    Returns
    -------
    pyarrow.Array

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> arrow_array(np.array([True, False, True]), pa).to_pylist()
    [True, False, True]
    """
    a = np.ascontiguousarray(values)
    if a.dtype == np.bool_:
        return pa.Array.from_buffers(pa.bool_(), a.size, [None, pa.py_buffer(np.packbits(a, bitorder="little"))])
    return pa.Array.from_buffers(pa.from_numpy_dtype(a.dtype), a.size, [None, pa.py_buffer(a)])


def arrow_labels(codes, labels, pa):
    """A pyarrow dictionary array: integer ``codes`` into the strings ``labels`` (pandas never imported).

    Parameters
    ----------
    codes : numpy.ndarray
        Integer codes, one per row.
    labels : sequence of str
        The dictionary.
    pa : module
        pyarrow.

    Returns
    -------
    pyarrow.DictionaryArray

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> arrow_labels(np.array([1, 0, 1], dtype=np.int8), ["a", "bc"], pa).to_pylist()
    ['bc', 'a', 'bc']
    """
    words = _words(tuple(str(v) for v in labels), pa)
    codes = np.asarray(codes)
    # pyarrow's own check of the codes takes ~50 µs for 65,536 of them; NumPy's min and max, ~3 µs
    ok = codes.size == 0 or (int(codes.min()) >= 0 and int(codes.max()) < len(words))
    idx = arrow_array(codes, pa)
    return pa.DictionaryArray.from_arrays(idx, words, safe=not ok)


@lru_cache(maxsize=64)
def _words(labels: tuple, pa):
    """The strings ``labels`` as one pyarrow string array (built once per set of labels)."""
    enc = [v.encode() for v in labels]
    offsets = np.zeros(len(enc) + 1, dtype=np.int32)
    np.cumsum([len(e) for e in enc], out=offsets[1:])
    return pa.Array.from_buffers(pa.string(), len(enc), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(enc))])


def _table(chunk, pa):
    """A pyarrow Table of a DataFrame (its index left out) or of a mapping of column to array."""
    if isinstance(chunk, pa.Table):
        return chunk
    if hasattr(chunk, "to_numpy") and hasattr(chunk, "columns"):
        return pa.Table.from_pandas(chunk, preserve_index=False)
    return pa.table(dict(chunk))


#: characters that make a CSV field need quotes
_SPECIAL = (",", '"', "\n", "\r")


def _text_scalar(text: str, pa):
    """A pyarrow string scalar (``pa.scalar`` would import pandas)."""
    raw = text.encode()
    return pa.Array.from_buffers(pa.string(), 1, [None, pa.py_buffer(np.array([0, len(raw)], dtype=np.int32)),
                                                  pa.py_buffer(raw)])[0]


def _fields(table, pa, pc) -> list | None:
    """Each column of ``table`` as CSV text: a string array (pyarrow's own formatting, as its CSV writer's),
    or one ``str`` where a single value fills the column (a system's label or count), consecutive ones
    merged; None where a column needs the general writer (a null, a value that needs quotes, another type)."""
    out: list = []
    for col in table.columns:
        arr, t = (col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()), col.type
        if arr.null_count:
            return None
        text = None
        if pa.types.is_dictionary(t) and pa.types.is_string(t.value_type):
            words = arr.dictionary.to_pylist()
            if any(ch in w for w in words for ch in _SPECIAL):
                return None
            text = words[0] if len(words) == 1 else None
        elif pa.types.is_integer(t):
            lo, hi = pc.min_max(arr).values()
            text = str(lo.as_py()) if lo.as_py() == hi.as_py() else None
        elif not (pa.types.is_floating(t) or pa.types.is_boolean(t)):
            return None
        if text is None:
            out.append(pc.cast(arr, pa.string()))
        elif out and isinstance(out[-1], str):
            out[-1] += "," + text
        else:
            out.append(text)
    return out


class CsvBytes(tuple):
    """CSV text as pieces written one after the other (no copy to join them); ``bytes()`` joins them."""

    def __bytes__(self) -> bytes:
        return b"".join(memoryview(p).tobytes() for p in self)


def _joined_csv(table, pa):
    """The CSV rows of ``table`` (no header) as :class:`CsvBytes`, or None where :func:`_fields` declines.

    pyarrow formats each varying column once and joins the fields of every row; the columns that hold one
    value (a sweep's model, device, counts, level, layout: 9 of its 24) cost nothing per row. The bytes are
    those of pyarrow's CSV writer, about a quarter sooner."""
    import pyarrow.compute as pc

    n = table.num_rows
    fields = _fields(table, pa, pc) if n else None
    if not fields or all(isinstance(f, str) for f in fields):
        return None
    # each line's end: on the constant text that starts the next line where a line starts with one (the
    # usual case: the model's name; no pass over the rows), else appended to the last field (one pass)
    lead = isinstance(fields[0], str)
    if lead:
        fields[0] = "\n" + fields[0]
    elif isinstance(fields[-1], str):
        fields[-1] += "\n"
    else:
        fields[-1] = pc.binary_join_element_wise(fields[-1], _text_scalar("\n", pa), _text_scalar("", pa))
    args = [_text_scalar(f, pa) if isinstance(f, str) else f for f in fields]
    lines = pc.binary_join_element_wise(*args, _text_scalar(",", pa)) if len(args) > 1 else args[0]
    _, offsets, data = lines.buffers()
    off = np.frombuffer(offsets, dtype=np.int32)[lines.offset:lines.offset + n + 1]
    body = data.slice(int(off[0]) + lead, int(off[-1] - off[0]) - lead)
    return CsvBytes((body, b"\n")) if lead else CsvBytes((body,))


def _stat_columns(table, pa) -> list[str]:
    """The columns whose min/max statistics a Parquet file keeps: the grid's coordinates (integers and
    flags), strings, and the labels whose first chunk has a one-word dictionary (a sweep's chunk is one
    system: its model, device, layout), by which a reader skips row groups. Not over floats (about a third
    of the write, for little use) nor over a label of several words (a sweep's binding term, which varies
    within every row group, so its min and max prune nothing; ~6 ns a row of the write)."""
    out = []
    for name, col in zip(table.column_names, table.columns):
        t = col.type
        if pa.types.is_floating(t):
            continue
        if pa.types.is_dictionary(t) and col.num_chunks and len(col.chunk(0).dictionary) > 1:
            continue
        out.append(name)
    return out


#: rows the Parquet writer encodes at a time (pyarrow's default 1,024): each batch costs a page-size check
#: and a statistics update per column, so a sweep's 24 columns wrote 74 ns a row with the default and 54 ns
#: with 2^15 (2^16, 2^17: no faster); the file holds the same pages and bytes (8 chunks of the CLI sweep,
#: process CPU, best of 7)
_PARQUET_BATCH = 1 << 15


class FrameWriter:
    """Append tables to one CSV or Parquet file; the file is complete (renamed into place) on :meth:`close`.

    Use it as a context manager; an exception inside leaves no file.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.csv`` or ``.parquet`` file to write.
    attrs : dict, optional
        Metadata stored in a Parquet file (under ``roofline``, as JSON); ignored for CSV.
    metadata : dict of str to str, optional
        More key-value metadata of a Parquet file; ``roofline.rows`` (the rows written) is added on close.
    """

    def __init__(self, path, attrs: dict | None = None, metadata: dict | None = None):
        self.path, self.format, self.attrs = Path(path), frame_format(path), attrs or {}
        self.metadata = dict(metadata or {})
        self.pa = _pyarrow(self.format)
        self.rows = 0
        self._stack = ExitStack()
        self._tmp = None
        self._writer = None
        self._schema = None

    def __enter__(self) -> "FrameWriter":
        self._tmp = self._stack.enter_context(atomic_output(self.path))
        return self

    def __exit__(self, *exc) -> bool:
        try:
            if self._writer is not None:
                if self.format == "parquet" and hasattr(self._writer, "add_key_value_metadata"):  # pyarrow >= 13
                    self._writer.add_key_value_metadata({**self.metadata, "roofline.rows": str(self.rows)})
                self._writer.close()
            elif exc[0] is None:  # nothing written: an empty file with no rows
                self._tmp.write_bytes(b"")
        finally:
            self._stack.__exit__(*exc)
        return False

    def encode(self, chunk, header: bool):
        """CSV bytes of ``chunk`` (with the header line when ``header``): run on a worker thread, then
        :meth:`write_bytes` them in order.

        Parameters
        ----------
        chunk : pandas.DataFrame, pyarrow.Table or mapping of str to array
            The rows.
        header : bool
            Start with the column names.

        Returns
        -------
        CsvBytes, pyarrow.Buffer or bytes
            The text, in pieces where it is :class:`CsvBytes` (``bytes()`` of it is the whole).
        """
        if self.pa is None:
            import pandas as pd

            df = chunk if isinstance(chunk, pd.DataFrame) else pd.DataFrame(dict(chunk))
            return df.to_csv(index=False, header=header).encode()
        table = _table(chunk, self.pa)
        names = table.column_names
        bare = not any(ch in n for n in names for ch in _SPECIAL)
        head = (",".join(names) + "\n").encode() if header and bare else b""
        body = _joined_csv(table, self.pa) if bare else None
        if body is not None:
            return CsvBytes((head, *body)) if head else body
        import pyarrow.csv as pcsv

        for quoting in ("none", "needed"):  # bare text as pandas writes it, quotes only where a value needs them
            sink = self.pa.BufferOutputStream()
            try:
                pcsv.write_csv(table, sink, pcsv.WriteOptions(include_header=header and not bare,
                                                              quoting_style=quoting))
            except self.pa.ArrowInvalid:
                continue
            break
        return head + sink.getvalue().to_pybytes() if head else sink.getvalue()

    def write_bytes(self, buf, rows: int) -> None:
        """Append CSV bytes from :meth:`encode` [CSV only].

        Parameters
        ----------
        buf : CsvBytes, pyarrow.Buffer or bytes
            From :meth:`encode`.
        rows : int
            Rows they hold [1].
        """
        if self._writer is None:
            self._writer = open(self._tmp, "wb")  # noqa: SIM115 - closed in __exit__
        for piece in buf if isinstance(buf, CsvBytes) else (buf,):
            self._writer.write(memoryview(piece))
        self.rows += rows

    def write(self, chunk) -> None:
        """Append the rows of ``chunk`` (a DataFrame or a mapping of column to array).

        Parameters
        ----------
        chunk : pandas.DataFrame, pyarrow.Table or mapping of str to array
            The rows; every chunk of one file has the same columns.
        """
        n = len(chunk) if hasattr(chunk, "columns") else len(next(iter(dict(chunk).values())))
        if self.format == "csv":
            self.write_bytes(self.encode(chunk, header=self.rows == 0 and self._writer is None), n)
            return
        table = _table(chunk, self.pa)
        if self._writer is None:
            import pyarrow.parquet as pq

            meta = dict(table.schema.metadata or {})
            meta[b"roofline"] = json.dumps(self.attrs, default=str).encode()
            self._schema = table.schema.with_metadata(meta)
            # dictionary-encode the labels only: trying it on columns of distinct floats halves the write rate
            labels = [f.name for f in self._schema if self.pa.types.is_dictionary(f.type)
                      or self.pa.types.is_string(f.type) or self.pa.types.is_large_string(f.type)]
            stats = _stat_columns(table, self.pa)
            self._writer = pq.ParquetWriter(str(self._tmp), self._schema, use_dictionary=labels,
                                            write_statistics=stats or False, write_batch_size=_PARQUET_BATCH)
        self._writer.write_table(table.cast(self._schema) if table.schema != self._schema else table)
        self.rows += n


def write_frame(df, path) -> int:
    """Write a whole DataFrame to ``path`` (``.csv`` or ``.parquet``) with pyarrow, atomically.

    Parameters
    ----------
    df : pandas.DataFrame
        The frame; its ``attrs`` go into a Parquet file's metadata.
    path : str or os.PathLike
        The file.

    Returns
    -------
    int
        Rows written [1].
    """
    with FrameWriter(path, attrs=dict(df.attrs)) as w:
        w.write(df)
    return w.rows
