"""outputs.cli"""

from __future__ import annotations

from .main import main
from .parser import EXIT_USAGE, build_parser

__all__ = ['EXIT_USAGE', 'build_parser', 'main']
