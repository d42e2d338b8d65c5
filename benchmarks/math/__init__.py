"""The GPU reproduction of Math-Shepherd on GSM8K and MATH500, stage by stage, from a YAML recipe."""
