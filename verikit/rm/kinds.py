"""Kinds of reward model: how each is trained and read, registered by name (``register_scorers``).

A :class:`~verikit.interfaces.RewardModelKind` is what a kind is to the rest of verikit: its settings (a pydantic
model: the fields a
recipe's ``reward_models[*].training`` and the CLI accept), its trainer, its loader (the ``kind`` a model folder's
``verikit_rm.json`` names selects it, :func:`verikit.components.load_scorer`), and how its step scores become one
solution score when a recipe does not say. The core registers ``prm`` and ``orm`` (the paper's tag head),
``likelihood`` (beyond the paper) and ``remote`` (a server: read only). A plugin's kind is one module and one
registration; nothing else names kinds.
"""

from __future__ import annotations

from verikit.errors import VerikitError
from verikit.interfaces import RewardModelKind


def trainable_kind(name: str) -> RewardModelKind:
    """The registered kind ``name``, which must have a trainer (else an error listing the trainable kinds)."""
    from verikit import components

    kind = components.reward_model_kind(name)
    if kind.train is None:
        trainable = [n for n in components.names("scorers") if components.reward_model_kind(n).train is not None]
        raise VerikitError(
            f"reward models of kind {name!r} are read, not trained here (trainable kinds: {', '.join(trainable)})"
        )
    return kind


def train_tag_head(
    settings,
    base: str,
    examples,
    out,
    *,
    objective: str,
    labels: str = "hard",
    domain=None,
    progress: bool = True,
    callbacks=None,
) -> dict:
    """The paper's tag head (``prm``/``orm``): :func:`verikit.rm.training.train_reward_model`."""
    from verikit.rm.config import PRMConfig
    from verikit.rm.training import train_reward_model

    config = PRMConfig(
        base=base, objective=objective, labels=labels if objective == "prm" else "hard", **settings.model_dump()
    )
    return train_reward_model(config, examples, out, progress=progress, callbacks=callbacks)


def train_prm(settings, base, examples, out, **options) -> dict:
    return train_tag_head(settings, base, examples, out, objective="prm", **options)


def train_orm(settings, base, examples, out, **options) -> dict:
    return train_tag_head(settings, base, examples, out, objective="orm", **options)


def train_likelihood(
    settings, base: str, examples, out, *, labels: str = "hard", domain=None, progress: bool = True, callbacks=None
) -> dict:
    from verikit.rm.likelihood import train_likelihood_prm

    return train_likelihood_prm(
        base, examples, out, domain=domain, regularization=settings.regularization, batch_size=settings.batch_size
    )


from verikit.rm.config import LikelihoodSettings, PRMTrainingSettings  # noqa: E402  (the kinds below need them)
from verikit.rm.likelihood import load_likelihood_prm  # noqa: E402
from verikit.rm.scorer import load_tag_scorer  # noqa: E402

PRM = RewardModelKind(
    load=load_tag_scorer,
    train=train_prm,
    settings=PRMTrainingSettings,
    targets="prm",
    description="the paper's PRM: a causal LM read at its step tags, P(+) at every 'ки' in one pass",
)
ORM = RewardModelKind(
    load=load_tag_scorer,
    train=train_orm,
    settings=PRMTrainingSettings,
    targets="orm",
    aggregation="last",
    description="the paper's outcome baseline: trained at the last tag only, "
    "one score per solution (read at the last tag)",
)
LIKELIHOOD = RewardModelKind(
    load=load_likelihood_prm,
    train=train_likelihood,
    settings=LikelihoodSettings,
    targets="prm",
    description="beyond the paper: a frozen base's per-step likelihoods through a fitted logistic head",
)
