"""Registers the core's reward-model scorers by the ``kind`` a model folder's ``verikit_rm.json`` names."""

from verikit.hookspecs import hookimpl


@hookimpl
def register_scorers(register):
    register("prm", "verikit.rm.scorer:load_tag_scorer",
             description="a causal LM read at its step tags: P(+) at every 'ки' in one forward pass")
    register("orm", "verikit.rm.scorer:load_tag_scorer",
             description="the outcome baseline, trained at the last tag only and read like a PRM")
    register("likelihood", "verikit.rm.likelihood:load_likelihood_prm",
             description="a frozen base's per-step likelihoods through a fitted logistic head")
    register("remote", "verikit.rm.remote:RemoteScorer", description="a `verikit serve --prm` server over HTTP")
