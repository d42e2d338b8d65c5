"""Running RL from a policy with verikit reward models (``verikit rl`` and the pipeline's ``rl`` stage call
:func:`run_rl`): the algorithm is looked up by name (:mod:`verikit.rl.algorithms`), given the problems of every
dataset of the run and one domain, and followed by a greedy evaluation on dev."""

from __future__ import annotations

import json
from pathlib import Path

from verikit import components
from verikit.errors import DataError
from verikit.interfaces import accepted_settings
from verikit.rl.algorithms import RLContext
from verikit.rl.config import RLConfig


def greedy_accuracy(completer, problems, domain, checker, max_new_tokens: int = 160) -> float:
    """The share of ``problems`` whose greedy solution the checker accepts."""
    texts = completer.complete(
        [domain.prompt(p) for p in problems], n=1, temperature=0.0, max_new_tokens=max_new_tokens
    )
    return sum(checker.is_correct(t[0], p.gold_answer) for t, p in zip(texts, problems)) / len(problems)


def rl_context(config: RLConfig, domain_name: str | None = None) -> RLContext:
    """The train problems of every dataset of ``config``, dev problems of the first, and the run's one domain."""
    problems = [
        p for name in config.datasets for p in components.load_dataset(name, split="train", limit=config.train_problems)
    ]
    if not problems:
        raise DataError(f"the RL datasets {', '.join(config.datasets)} have no train problems")
    dev = (
        components.load_dataset(config.datasets[0], split="dev", limit=config.eval_problems)
        if config.eval_problems
        else []
    )
    domains = sorted({p.domain for p in problems})
    if domain_name is None and len(domains) > 1:
        raise DataError(
            f"RL over datasets of several domains ({', '.join(domains)}) needs one domain for prompts, steps "
            "and answers: name it (a recipe's domain, or verikit rl --domain)"
        )
    domain = components.domain(domain_name or domains[0])
    if config.prompt_template is not None:
        domain = domain.model_copy(update={"prompt_template": config.prompt_template})
    factory = components.lookup("completers", config.backend)
    return RLContext(
        problems=problems,
        dev=dev,
        domain=domain,
        checker=components.answer_checker(domain.answer_checker),
        splitter=components.step_splitter(domain.step_splitter),
        completer=lambda model, **settings: factory(model=model, **accepted_settings(factory, **settings)),
    )


def run_rl(config: RLConfig, out: str | Path, domain: str | None = None) -> dict:
    """Run ``config`` into ``out`` (the trained model in ``out/model``); returns and writes ``out/rl.json``."""
    out = Path(out)
    context = rl_context(config, domain)
    out.mkdir(parents=True, exist_ok=True)
    algorithm = components.lookup("rl_algorithms", config.algo)
    summary = algorithm.run(config, out, context)
    if context.dev and "dev_greedy_acc" not in summary:
        trained = context.completer(str(out / "model"), max_new_tokens=config.ppo.max_new_tokens)
        summary["dev_greedy_acc"] = context.greedy_accuracy(trained, config.ppo.max_new_tokens)
    summary["config"] = config.model_dump()
    (out / "rl.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
