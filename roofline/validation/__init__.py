"""validation"""

from __future__ import annotations

from .bounds import default_path, load_measurements, validate, validation_frame

__all__ = ['default_path', 'load_measurements', 'validate', 'validation_frame']
