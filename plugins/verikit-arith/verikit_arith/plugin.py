"""Hook implementations of verikit-arith."""
