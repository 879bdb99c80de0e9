"""The version of roofline (a leaf module, so that every room can read it without importing the package)."""

__version__ = "0.2.0"
