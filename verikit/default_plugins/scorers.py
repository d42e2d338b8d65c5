"""Registers the core's kinds of reward model by the ``kind`` a model folder's ``verikit_rm.json`` names
(:mod:`verikit.rm.kinds`: how each is trained and read)."""

from verikit.hookspecs import hookimpl


@hookimpl
def register_scorers(register):
    register(
        "prm",
        "verikit.rm.kinds:PRM",
        description="the paper's PRM: a causal LM read at its step tags, P(+) at every 'ки' in one forward pass",
    )
    register(
        "orm",
        "verikit.rm.kinds:ORM",
        description="the outcome baseline, trained at the last tag only; one score per solution (its last tag)",
    )
    register(
        "likelihood",
        "verikit.rm.kinds:LIKELIHOOD",
        description="a frozen base's per-step likelihoods through a fitted logistic head (beyond the paper)",
    )
    register("remote", "verikit.rm.remote:RemoteScorer", description="a `verikit serve --prm` server over HTTP")
