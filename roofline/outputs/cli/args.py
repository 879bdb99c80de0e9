"""The argparse plumbing every command shares: the parser class, argument types and the common options.

:class:`Parser` turns argparse's usage dump into one line (:class:`UsageError`, exit status
:data:`EXIT_USAGE`); :func:`positive_int`, :func:`int_grid` and :func:`str_list` are argument types;
:func:`add_common` adds ``--spec`` and ``--format``; :func:`add_speculation` the speculative-decoding options
(read back by :func:`speculation_of`); :func:`check_plot_path` and :func:`check_frame_path` refuse an output
file the command could not write, before any work is done.
"""

from __future__ import annotations

import argparse
import math
import os
import sys

from ...errors import InputError
from ..format import FORMATS, for_terminal

__all__ = ["EXIT_USAGE", "MAX_INT", "MAX_GRID_VALUES", "Parser", "UsageError", "positive_int", "positive_float",
           "int_grid", "str_list", "path_arg", "acceptance_list", "add_common", "add_layout", "layout_options",
           "add_speculation", "speculation_of", "check_plot_path", "check_frame_path", "check_output_path",
           "price_arg", "add_price", "ListAction"]


#: Exit status of a user error (a bad option, an unknown device, a model that does not fit...).
EXIT_USAGE = 2


class UsageError(Exception):
    """A command line argparse refused; its message is one line."""


class _Formatter(argparse.HelpFormatter):
    """Wraps a description to the terminal, and keeps text of several lines (an example) as written."""

    def _fill_text(self, text, width, indent):
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump) and exit status 2; an example is kept as written."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # noqa: D401
        """Raise :class:`UsageError` (one line, exit 2) instead of printing usage and exiting.

        Parameters
        ----------
        message : str
            argparse's message.

        Returns
        -------
        NoReturn
        """
        raise UsageError(f"{self.prog}: {message}")

    def _print_message(self, message, file=None):
        """Help and usage text, in a form the terminal's encoding can show (``·`` becomes ``*``)."""
        if message:
            file = file or sys.stdout
            file.write(for_terminal(message, getattr(file, "encoding", None)))


#: The largest whole number an option takes: float64 holds every whole number up to 2**53 exactly, and
#: every count roofline computes with passes through a float.
MAX_INT = 2**53

#: The most values one grid axis may have (``1:10000000:+1`` is refused up front, before it fills memory).
MAX_GRID_VALUES = 1_000_000


def _whole(text: str) -> int:
    """``text`` as a whole number from 1 to :data:`MAX_INT` (``"8"``, ``"1e3"``); ValueError otherwise."""
    text = text.strip()
    if text.isdigit():
        v = int(text)
    else:
        f = float(text)  # ValueError for words; inf and nan pass here and fail below
        if not (math.isfinite(f) and f.is_integer()):
            raise ValueError(text)
        v = int(f)
    if not 1 <= v <= MAX_INT:
        raise ValueError(text)
    return v


def positive_int(text: str) -> int:
    """An argument type: a positive integer (``"8"``, ``"1e3"``) of at most :data:`MAX_INT`.

    Parameters
    ----------
    text : str
        The argument as typed.

    Returns
    -------
    int
        The value [1].

    Raises
    ------
    argparse.ArgumentTypeError
        Not a whole number from 1 to :data:`MAX_INT` (a fraction, ``inf``, ``nan``, a word).

    Examples
    --------
    >>> positive_int("1e3")
    1000
    """
    try:
        return _whole(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer of at most 2**53 ({MAX_INT:.3g}), got {text!r}") from None


def _range_values(lo: int, hi: int, how: str | None) -> list[int]:
    import numpy as np

    if hi < lo:
        raise ValueError
    if how is None:
        return sorted({lo, hi} | {2**k for k in range(64) if lo <= 2**k <= hi})
    if how.startswith("+"):
        step = _whole(how[1:])
        if (hi - lo) // step + 1 > MAX_GRID_VALUES:
            raise OverflowError
        return list(range(lo, hi + 1, step))
    count = _whole(how)
    if count > MAX_GRID_VALUES:
        raise OverflowError
    return sorted(set(int(round(v)) for v in np.geomspace(lo, hi, count)))


def positive_float(text: str) -> float:
    """An argument type: a positive number (``"20"``, ``"1.5"``).

    Parameters
    ----------
    text : str
        The argument as typed.

    Returns
    -------
    float
        The value.

    Raises
    ------
    argparse.ArgumentTypeError
        Not a positive finite number.
    """
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not 0 < v < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return v


def price_arg(text: str) -> float | dict[str, float]:
    """An argument type: a rental price per device-hour in USD, for every device (``"2.5"``) or per
    device key (``"h100=2.5,b200=6.8"``; devices not named take the price table's).

    Parameters
    ----------
    text : str
        The argument as typed.

    Returns
    -------
    float or dict of str to float
        [USD/h].

    Raises
    ------
    argparse.ArgumentTypeError
        Not a positive, finite number (or KEY=NUMBER list of them).
    """
    import math

    def one(v: str) -> float:
        try:
            x = float(v)
        except ValueError:
            x = float("nan")
        if not math.isfinite(x) or x <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive price in USD per device-hour, got {text!r}")
        return x

    if "=" not in text:
        return one(text)
    pairs = [item.partition("=") for item in text.split(",")]
    if any(not k.strip() or not sep for k, sep, _ in pairs):
        raise argparse.ArgumentTypeError(f"expected PRICE or DEVICE=PRICE,DEVICE=PRICE, got {text!r}")
    return {k.strip(): one(v) for k, _, v in pairs}


def add_price(p: argparse.ArgumentParser) -> None:
    """Add ``--price`` (:func:`price_arg`): the rental price that cost figures use instead of the table's.

    Parameters
    ----------
    p : argparse.ArgumentParser
        A command's parser.

    Returns
    -------
    None
    """
    p.add_argument("--price", type=price_arg, metavar="USD_PER_DEVICE_HOUR",
                   help="rental price of one device for one hour in USD (or DEVICE=USD,...), for USD per "
                   "million tokens; default: the shipped cloud price table (prices/cloud-prices.toml)")


def _grid_values(text: str) -> list[int]:
    if ":" not in text:
        vals = [_whole(v) for v in text.split(",")]
        if len(vals) > MAX_GRID_VALUES:
            raise OverflowError
        return vals
    parts = text.split(":")
    if len(parts) > 3:
        raise ValueError
    return _range_values(_whole(parts[0]), _whole(parts[1]), parts[2] if len(parts) == 3 else None)


def int_grid(text: str) -> list[int]:
    """An argument type: a grid of positive integers (each at most :data:`MAX_INT`, at most
    :data:`MAX_GRID_VALUES` of them).

    ``1:1024`` is the powers of two between the ends (and the ends), ``1:1024:20`` 20 log-spaced values,
    ``1:64:+8`` a step of 8, ``1,8,64`` a list.

    Parameters
    ----------
    text : str
        The argument as typed.

    Returns
    -------
    list of int
        The values [1], ascending for a range.

    Raises
    ------
    argparse.ArgumentTypeError
        Any other text, a value that is not a positive whole number, or too many values.

    Examples
    --------
    >>> int_grid("3:20"), int_grid("1:64:+16")
    ([3, 4, 8, 16, 20], [1, 17, 33, 49])
    """
    try:
        return _grid_values(text)
    except OverflowError:
        raise argparse.ArgumentTypeError(
            f"{text!r} has more than {MAX_GRID_VALUES:,} values; use a coarser grid (1:1024:20)") from None
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected positive integers (at most 2**53) as 1:1024, 1:1024:20, 1:64:+8 or 1,8,64; got {text!r}"
        ) from None


def path_arg(text: str) -> str:
    """An argument type: a file or folder name, which must not be empty.

    Parameters
    ----------
    text : str
        The argument as typed.

    Returns
    -------
    str
        ``text`` unchanged.

    Raises
    ------
    argparse.ArgumentTypeError
        An empty (or blank) name, or one holding a NUL character.
    """
    if not text.strip() or "\0" in text:
        raise argparse.ArgumentTypeError(f"expected a file name, got {text!r}")
    return text


def str_list(text: str) -> list[str]:
    """An argument type: a comma-separated list (``bf16,fp8``).

    Parameters
    ----------
    text : str
        The argument as typed.

    Returns
    -------
    list of str
        The non-empty items, stripped.

    Raises
    ------
    argparse.ArgumentTypeError
        No item.
    """
    vals = [v.strip() for v in text.split(",") if v.strip()]
    if not vals:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
    return vals


def acceptance_list(text: str) -> list[float]:
    """An argument type: acceptance rates, one number or a comma list (one per drafted token).

    Parameters
    ----------
    text : str
        The argument as typed (``"0.8"``, ``"0.9,0.8,0.7"``).

    Returns
    -------
    list of float
        Each between 0 and 1 [1].

    Raises
    ------
    argparse.ArgumentTypeError
        A value that is not a number in [0, 1].

    Examples
    --------
    >>> acceptance_list("0.9, 0.8,0.7")
    [0.9, 0.8, 0.7]
    """
    try:
        vals = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        vals = []
    if not vals or any(not 0.0 <= v <= 1.0 for v in vals):
        raise argparse.ArgumentTypeError(f"expected acceptance rates in [0, 1]: 0.8 or 0.9,0.8,0.7; got {text!r}")
    return vals


def add_speculation(p: argparse.ArgumentParser) -> None:
    """Add the speculative-decoding options: one draft (``--draft``, ``--mtp`` or ``--eagle``), its length,
    its acceptance rate and (for a draft model) devices of its own.

    Parameters
    ----------
    p : argparse.ArgumentParser
        A command's parser.

    Returns
    -------
    None
    """
    g = p.add_argument_group("speculative decoding", "a draft proposes tokens, one step of the model verifies "
                             "them all (roofline.llm.speculative)")
    which = g.add_mutually_exclusive_group()
    which.add_argument("--draft", metavar="MODEL", help="a smaller draft model with the same vocabulary")
    which.add_argument("--mtp", type=positive_int, metavar="K", help="K multi-token-prediction modules of the "
                       "model (DeepSeek-V3 has 1)")
    which.add_argument("--eagle", type=positive_int, metavar="K", help="an EAGLE-style head of K decoder layers")
    g.add_argument("--draft-tokens", type=positive_int, metavar="GAMMA", help="tokens drafted per step (default: "
                   "the draft length of the published acceptance figure; --mtp K: K)")
    g.add_argument("--acceptance", type=acceptance_list, metavar="ALPHA", help="probability a drafted token is "
                   "accepted: one number, or a comma list with one per drafted token, each given the ones before "
                   "(default: the published figure for the kind of draft; see the methodology page)")
    g.add_argument("--draft-devices", type=positive_int, metavar="N", help="run the draft model on N devices of "
                   "its own (default: on the model's devices)")


def speculation_of(args: argparse.Namespace):
    """The :class:`~roofline.llm.speculative.Speculation` the options of :func:`add_speculation` ask for.

    Parameters
    ----------
    args : argparse.Namespace
        With ``draft``, ``mtp``, ``eagle``, ``draft_tokens``, ``acceptance`` and ``draft_devices``.

    Returns
    -------
    Speculation or None
        None without a draft.

    Raises
    ------
    InputError
        Draft options without a draft, or values the draft cannot take.
    """
    from ...llm.speculative import Speculation

    acc = getattr(args, "acceptance", None)
    return Speculation.of(draft=getattr(args, "draft", None), mtp=getattr(args, "mtp", None),
                          eagle=getattr(args, "eagle", None), draft_tokens=getattr(args, "draft_tokens", None),
                          acceptance=(acc[0] if acc and len(acc) == 1 else acc),
                          draft_devices=getattr(args, "draft_devices", None))


class ListAction(argparse.Action):
    """The one list syntax of every list option: repeat the option, separate with commas, or both
    (``--device h100,b200``, ``--device h100 --device b200``; ``--device h100 b200`` where the option
    takes several words). The option's ``type`` turns one word into a list (:func:`str_list`,
    :func:`int_grid`); a default is replaced, not extended, by the first value given."""

    def __call__(self, parser, namespace, values, option_string=None):
        words = values if isinstance(values, list) and values and isinstance(values[0], list) else [values]
        items = [v for w in words for v in (w if isinstance(w, list) else [w])]
        current = getattr(namespace, self.dest, None)
        fresh = current is None or current is self.default
        setattr(namespace, self.dest, (list(current) if not fresh else []) + items)


def add_common(p: argparse.ArgumentParser, fmt: bool = True) -> None:
    """Add the options every command takes: ``--spec`` and (unless ``fmt`` is false) ``--format``.

    Parameters
    ----------
    p : argparse.ArgumentParser
        A command's parser.
    fmt : bool
        Add ``--format`` (one of :data:`roofline.outputs.format.FORMATS`, default ``table``).

    Returns
    -------
    None
    """
    p.add_argument("--spec", action="append", default=[], metavar="PATH", type=path_arg,
                   help="extra spec file or folder (repeatable; also ROOFLINE_SPEC_PATH)")
    if fmt:
        p.add_argument("-f", "--format", choices=FORMATS, default="table", help="output format (default: table)")


#: the layout options beside ``--tp`` and ``--pp``, as ``(option, library keyword)``
_LAYOUT = (("dp", "dp"), ("ep", "ep"), ("attention", "attention"), ("micro_batches", "micro_batches"),
           ("imbalance", "imbalance"))


def add_layout(p: argparse.ArgumentParser, counts: bool = True) -> None:
    """Add the layout options: ``--dp``, ``--ep``, ``--attention``, ``--micro-batches``, ``--imbalance``
    (and ``--tp``, ``--pp`` unless ``counts`` is false, for a command that has them already).

    Parameters
    ----------
    p : argparse.ArgumentParser
        A command's parser.
    counts : bool
        Also add ``--tp`` and ``--pp``.

    Returns
    -------
    None
    """
    if counts:
        p.add_argument("--tp", type=positive_int, help="devices per pipeline stage (tensor-parallel degree)")
        p.add_argument("--pp", type=positive_int, help="pipeline stages")
    p.add_argument("--dp", type=positive_int, help="independent replicas of the model (data parallelism)")
    p.add_argument("--ep", type=positive_int, help="devices the routed experts of a stage are spread over "
                   "(default: the whole stage; each expert tensor-parallel over tp / ep)")
    p.add_argument("--attention", choices=["tp", "dp"], help="attention tensor-parallel (default) or data-"
                   "parallel over a stage (each device its own sequences; experts over the whole stage)")
    p.add_argument("--micro-batches", type=positive_int, dest="micro_batches",
                   help="micro-batches in flight through the pipeline (default 1)")
    p.add_argument("--imbalance", type=positive_float, help="routed-expert load of the busiest device over the "
                   "mean (default 1: balanced)")


def layout_options(args: argparse.Namespace, counts: bool = False) -> dict:
    """The layout options the user gave, as library keywords (``dp``, ``ep``, ``attention``, ...).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options of a command with :func:`add_layout`.
    counts : bool
        Include ``tp`` and ``pp``.

    Returns
    -------
    dict
        Only the options that were given.
    """
    names = list(_LAYOUT) + ([("tp", "tp"), ("pp", "pp")] if counts else [])
    return {kw: getattr(args, opt) for opt, kw in names if getattr(args, opt, None) is not None}


def check_output_path(path: str) -> None:
    """Refuse a file the command could not write, before any work is done.

    Parameters
    ----------
    path : str
        The file the user asked for.

    Returns
    -------
    None

    Raises
    ------
    InputError
        Its folder is missing or not writable, or it names a folder.
    """
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InputError(f"cannot write {path!r}: no folder {folder!r}")
    if os.path.isdir(path):
        raise InputError(f"cannot write {path!r}: it is a folder; give a file name")
    if not os.access(folder, os.W_OK):
        raise InputError(f"cannot write {path!r}: the folder {folder!r} is not writable")


def check_plot_path(path: str) -> None:
    """Refuse a chart file that cannot be written: a wrong extension, a missing folder, a folder's name.

    Parameters
    ----------
    path : str
        The chart file the user asked for.

    Returns
    -------
    None

    Raises
    ------
    InputError
        Not ``.png``, ``.svg`` or ``.pdf``, its folder does not exist or cannot be written, or it names a
        folder.
    """
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".png", ".svg", ".pdf"):
        raise InputError(f"cannot write a chart to {path!r}: use a .png, .svg or .pdf file name")
    check_output_path(path)


def check_frame_path(path: str) -> None:
    """Refuse a grid file that cannot be written: a format the sweep cannot write, a missing folder.

    Parameters
    ----------
    path : str
        The file the user asked for.

    Returns
    -------
    None

    Raises
    ------
    InputError
        Neither ``.csv`` nor ``.parquet``, its folder does not exist or cannot be written, or it names a
        folder.
    """
    if os.path.splitext(path)[1].lower() not in (".csv", ".parquet"):
        raise InputError(f"cannot write {path!r}: use a .csv or .parquet file name")
    check_output_path(path)


#: The three numbers of every answer, as ``--mode`` names them.
MODES = ("ideal", "latency_bound", "estimate")


def add_mode(p: argparse.ArgumentParser) -> None:
    """Add ``--mode ideal|latency_bound|estimate`` beside a command's ``--ideal``.

    Parameters
    ----------
    p : argparse.ArgumentParser
        A command's parser that has ``--ideal``.

    Returns
    -------
    None
    """
    p.add_argument("--mode", choices=MODES, help="what tables and charts show: ideal (the pure roofline: "
                   "datasheet peaks), latency_bound (datasheet peaks with the latency terms) or estimate "
                   "(measured ceilings plus the latency terms; the default)")


def apply_mode(args: argparse.Namespace) -> None:
    """Turn ``--mode`` into what the commands read: ``ideal``, and for ``latency_bound`` the devices'
    ``@datasheet`` names (without ``--ideal`` every command evaluates the estimate on measured ceilings).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments; changed in place.

    Returns
    -------
    None

    Raises
    ------
    UsageError
        ``--ideal`` with another mode.
    """
    mode = getattr(args, "mode", None)
    if mode is None:
        return
    if getattr(args, "ideal", False) and mode != "ideal":
        raise UsageError(f"roofline: error: --ideal contradicts --mode {mode}")
    args.ideal = mode == "ideal"
    # every evaluation that is not ideal is the estimate (measured ceilings); the latency bound's view keeps
    # the datasheet's rates under the same latency terms (roofline.hardware.measured.datasheet_pinned)
    if mode == "latency_bound":
        if isinstance(getattr(args, "device", None), str):
            args.device += "@datasheet"
        devs = getattr(args, "devices", None)
        if isinstance(devs, list) and all(isinstance(d, str) for d in devs):
            args.devices = [d + "@datasheet" for d in devs]
