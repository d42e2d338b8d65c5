"""verikit-math: GSM8K and MATH answer checking, math step splitters and the benchmark loaders.

Registered (entry point ``math`` in group ``verikit``): answer checkers ``gsm8k`` and ``math``, step
splitters ``gsm8k`` and ``math``, datasets ``gsm8k``, ``math500`` and ``math-train``, domains ``gsm8k``
and ``math``.
"""

__version__ = "0.1.0"
