"""verikit-arith: a synthetic multi-step arithmetic domain whose step correctness is known exactly."""

__version__ = "0.1.0"
