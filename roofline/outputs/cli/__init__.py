"""The command line: ``roofline COMMAND ...`` or ``python -m roofline COMMAND ...``, a thin shell over the
library (parse → call → format).

=============  ============================================================================================
command        what it prints (library function behind it)
=============  ============================================================================================
``list``       the known devices (:func:`roofline.outputs.report.device_summary`)
``show``       every figure of a device with its source (:func:`roofline.outputs.report.device_record`)
``gemm``       one GEMM on one device (:func:`roofline.engine.kernel.kernel_report`)
``llm``        LLM prefill and decode on a device (:func:`roofline.llm.inference.estimate`)
``compare``    devices side by side (:func:`roofline.outputs.compare.compare`)
``sweep``      LLM decode or prefill over a grid (:func:`roofline.llm.sweeps.decode_sweep`)
``plot``       charts: roofline, compare, sweep, frontier, memory-wall (:mod:`roofline.outputs.plot`)
``report``     one self-contained HTML report (or PDF, Markdown) (:func:`roofline.outputs.html.build_report`)
``validate``   published measurements against their bounds (:func:`roofline.validation.bounds.validate`)
``models``     the known LLM configurations (:func:`roofline.outputs.report.model_summary`)
=============  ============================================================================================

Every command takes ``--format table|markdown|latex|csv|json`` (``plot`` and ``report`` write a file,
their ``--format`` the file's) and
``--spec PATH``. A user error prints one line on stderr and exits with status 2, without a traceback;
nothing here computes physics of its own.

Layout: :mod:`~roofline.outputs.cli.main` (:func:`main`, the entry point),
:mod:`~roofline.outputs.cli.parser` (:func:`build_parser`), :mod:`~roofline.outputs.cli.args` (the parser
class, argument types and shared options) and :mod:`roofline.outputs.cli.commands`, one module per command
with ``register(subparsers)`` and ``run(args) -> str``.
"""

from __future__ import annotations

from .args import EXIT_USAGE
from .main import main
from .parser import build_parser

__all__ = ['EXIT_USAGE', 'build_parser', 'main']
