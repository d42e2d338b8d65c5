"""Deprecated name of :mod:`verikit.rm.score_files` (beside :mod:`verikit.rm.scorer` it read as the same module)."""

import warnings

from verikit.rm.score_files import *  # noqa: F403
from verikit.rm.score_files import score_file  # noqa: F401

warnings.warn("verikit.rm.scoring is now verikit.rm.score_files", DeprecationWarning, stacklevel=2)
