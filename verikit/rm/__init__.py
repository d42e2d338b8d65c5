"""Reward models: process (PRM) and outcome (ORM) models in the Math-Shepherd form, their scorer and evaluation.

Nothing heavy is imported here; ``verikit.rm.training`` and ``verikit.rm.scorer`` import torch when used.
"""
