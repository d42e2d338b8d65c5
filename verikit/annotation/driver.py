"""The annotation pipeline: sample solutions, split them, roll out from their steps, label, store.

Work is done chunk by chunk (``chunk_size`` problems). Each generator samples ``samples_per_problem``
solutions of every problem (the paper: 15 from each of its two weak generators); with ``deduplicate`` a
solution whose text an earlier one of the same problem already has is stored as a duplicate
(``duplicate_of``) and not rolled out. Inside a chunk every solution's strategy runs side by side and each
round of probes is answered with batched completer calls; identical prefixes (two samples that share their
first steps) share their rollouts. With a completer that takes per-sample seeds
(:meth:`~verikit.interfaces.Completer.supports_sample_seeds`; the transformers backend does), the ``j``-th
solution of a problem and the ``i``-th rollout of a step prefix are seeded by the run's seed and those
coordinates alone, so the labels do not depend on the chunk, round or batch sizes; otherwise each chunk's
randomness is seeded from the run's seed and the chunk's index. Either way a chunk recomputed after a crash
gives the same records.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from verikit import components
from verikit.annotation.config import AnnotationConfig
from verikit.annotation.storage import AnnotationStore, config_hash, record_key
from verikit.errors import DataError
from verikit.interfaces import Completions, Probe, StrategyOptions, accepted_settings, checker_raised
from verikit.models import require_model
from verikit.records import AnnotationRecord
from verikit.seeding import derived_seed, rollout_seeds, sample_seeds
from verikit.types import StepLabel


@dataclass
class AnnotationSummary:
    out: str
    problems: int = 0
    solutions: int = 0
    skipped_chunks: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    rollouts_used: int = 0
    rollouts_generated: int = 0
    rollout_tokens: int = 0
    seconds: float = 0.0
    repairs: list[str] = field(default_factory=list)
    gold_errors: list[str] = field(default_factory=list)  # problems whose gold answer the checker cannot read
    retried: int = 0  # records of chunks holding an error, dropped by ``retry_errors`` (the chunks ran again)
    duplicates: int = 0  # solutions with the text of an earlier one of their problem (not rolled out)

    @property
    def labelled(self) -> int:
        return self.solutions - sum(self.errors.values()) - self.duplicates


#: How a run's randomness is laid out, stored in its folder's manifest: a folder annotated under another scheme
#: (before per-sample seeds, its chunks were seeded by their index) is refused on resumption rather than
#: finished with labels drawn two ways. Change it whenever the same seed stops giving the same records.
SEEDING_SCHEME = "per-sample seeds keyed by problem, sample and step prefix (1)"


#: Encoded prompts a backend that can keep them holds across rounds (MiB; ``backend_options`` may set
#: ``prompt_cache_mb``): a round's step prefixes are token prefixes of earlier rounds' ones, so they are not
#: encoded again (:mod:`verikit.completers.prompt_store`). A speed setting: the labels are the same without it.
PROMPT_CACHE_MB = 1024


def run_manifest(config: AnnotationConfig) -> dict[str, Any]:
    """What an annotation folder's manifest holds: the configuration and the seeding scheme."""
    return {**config.model_dump(), "seeding_scheme": SEEDING_SCHEME}


@dataclass
class _Item:
    """One sampled solution being annotated."""

    problem: Any
    sample_index: int
    generator: str
    solution: str
    steps: list[str]
    final_answer: str | None
    final_correct: bool | None
    error: str | None = None
    run: Any = None
    probe: Probe | None = None
    probe_key: tuple[str, str] | None = None
    consumed: dict[str, int] = field(default_factory=dict)
    labels: list[StepLabel] | None = None
    verdicts: dict[int, list[bool]] = field(default_factory=dict)
    rollouts_generated: int = 0
    rollout_tokens: int = 0
    duplicate_of: int | None = None


class Annotator:
    """Annotates problems with the configured models; reusable across chunks (models load once)."""

    def __init__(self, config: AnnotationConfig, generator=None, completer=None):
        self.config = config
        self.generators = [generator or self._completer(config.generator[0])]
        self.generators += [self._completer(model) for model in config.generator[1:]]
        if completer is not None:
            self.completer = completer
        elif config.rollout_model == config.generator[0]:
            self.completer = self.generators[0]
        else:
            self.completer = self._completer(config.rollout_model)
        self.strategy = components.strategy(config.strategy)
        self.options = StrategyOptions(
            estimator=components.estimator(config.estimator, **config.estimator_options), round_size=config.round_size
        )

    def _completer(self, model: str):
        """The configured backend for ``model``, given the run's device and batch size where it takes them."""
        factory = components.lookup("completers", self.config.backend)
        return factory(
            model=model,
            **accepted_settings(
                factory,
                **{
                    "batch_size": self.config.batch_size,
                    "device": self.config.device,
                    "max_new_tokens": self.config.max_new_tokens,
                    "prompt_cache_mb": PROMPT_CACHE_MB,
                    **self.config.backend_options,
                },
            ),
        )

    @property
    def generator(self):
        """The first generator (the only one, usually)."""
        return self.generators[0]

    def models(self) -> list:
        """Every engine this annotator holds, each once (to release them)."""
        return list({id(m): m for m in [*self.generators, self.completer]}.values())

    # -- one chunk ---------------------------------------------------------------------------------
    def annotate_chunk(self, chunk: int, problems: list, on_rollouts=None) -> list[dict]:
        config = self.config
        domains = {p.domain: components.domain(config.domain or p.domain) for p in problems}
        if config.prompt_template is not None:
            domains = {
                name: d.model_copy(update={"prompt_template": config.prompt_template}) for name, d in domains.items()
            }
        checkers = {name: components.answer_checker(d.answer_checker) for name, d in domains.items()}
        splitters = {name: components.step_splitter(d.step_splitter) for name, d in domains.items()}
        gold_errors = {p.id: gold_error(p, checkers[p.domain]) for p in problems}
        sampled = [p for p in problems if gold_errors[p.id] is None]  # nothing is sampled for a gold not understood
        prompts = [domains[p.domain].prompt(p) for p in sampled]
        k = config.samples_per_problem
        texts_by_id: dict[str, list[tuple[int, str, str]]] = {
            p.id: [] for p in sampled
        }  # (sample index, generator, text)
        for g, (name, generator) in enumerate(zip(config.generator, self.generators)):
            keyed = (
                {"sample_seeds": [sample_seeds(config.seed, p.id, g, k) for p in sampled]}
                if generator.supports_sample_seeds()
                else {}
            )
            samples = (
                generator.complete(
                    prompts,
                    n=k,
                    temperature=config.temperature,
                    top_p=config.top_p,
                    max_new_tokens=config.max_new_tokens,
                    seed=derived_seed(config.seed, "sample", chunk, *([g] if g else [])),
                    **keyed,
                )
                if sampled
                else []
            )
            for p, texts in zip(sampled, samples):
                texts_by_id[p.id] += [(g * k + j, name, text) for j, text in enumerate(texts)]
        items: list[_Item] = []
        for problem in problems:
            checker, splitter = checkers[problem.domain], splitters[problem.domain]
            if gold_errors[problem.id] is not None:
                items.extend(
                    _Item(
                        problem, index, config.generator[index // k], "", [], None, None, error=gold_errors[problem.id]
                    )
                    for index in range(k * len(config.generator))
                )
                continue
            first_of: dict[str, int] = {}
            for index, name, text in texts_by_id[problem.id]:
                solution = text.rstrip()
                steps = splitter.split(solution)
                answer, final_correct, raised = _final_verdict(checker, solution, problem.gold_answer)
                item = _Item(problem, index, name, solution, steps, answer, final_correct, error=raised)
                if raised:
                    pass  # recorded as this row's error, never rolled out
                elif config.deduplicate and solution in first_of:
                    item.duplicate_of = first_of[solution]  # stored, counted, never rolled out
                elif not steps:
                    item.error = "solution has no steps"
                else:
                    item.run = self.strategy(len(steps), config.n_rollouts, item.final_correct, self.options)
                first_of.setdefault(solution, index)
                items.append(item)
        self._run_strategies(
            chunk,
            items,
            prompts_by_id={p.id: prompt for p, prompt in zip(sampled, prompts)},
            checkers=checkers,
            splitters=splitters,
            on_rollouts=on_rollouts,
        )
        return [self._record(chunk, item) for item in items]

    def label_solutions(self, solutions: list[tuple[Any, list[str]]], on_rollouts=None) -> list[list[StepLabel] | None]:
        """Monte Carlo labels of given solutions — ``(problem, steps)`` pairs, e.g. human-labelled ones — with this
        annotator's completer, strategy, estimator and N; ``None`` for a problem whose gold answer is not understood.
        Rollouts are seeded by (problem, prefix, index) as in annotation, and solutions sharing a prefix share them."""
        config = self.config
        domains = {p.domain: components.domain(config.domain or p.domain) for p, _ in solutions}
        if config.prompt_template is not None:
            domains = {
                name: d.model_copy(update={"prompt_template": config.prompt_template}) for name, d in domains.items()
            }
        checkers = {name: components.answer_checker(d.answer_checker) for name, d in domains.items()}
        splitters = {name: components.step_splitter(d.step_splitter) for name, d in domains.items()}
        items = []
        for index, (problem, steps) in enumerate(solutions):
            checker, text = checkers[problem.domain], splitters[problem.domain].join(steps)
            answer, final_correct, raised = _final_verdict(checker, text, problem.gold_answer)
            item = _Item(problem, index, "given", text, list(steps), answer, final_correct, error=raised)
            if raised:
                pass
            elif gold_error(problem, checker) is not None:
                item.error = "gold answer not understood"
            elif steps:
                item.run = self.strategy(len(steps), config.n_rollouts, item.final_correct, self.options)
            items.append(item)
        prompts = {p.id: domains[p.domain].prompt(p) for p, _ in solutions}
        self._run_strategies(
            0, items, prompts_by_id=prompts, checkers=checkers, splitters=splitters, on_rollouts=on_rollouts
        )
        return [None if item.error else item.labels for item in items]

    def _advance(self, item: _Item, verdicts: list[bool] | None) -> None:
        try:
            item.probe = next(item.run) if verdicts is None else item.run.send(verdicts)
        except StopIteration as done:
            item.labels, item.probe = done.value, None

    def _run_strategies(self, chunk, items, prompts_by_id, checkers, splitters, on_rollouts) -> None:
        config = self.config
        pools: dict[tuple[str, str], list[bool]] = {}  # (problem id, prefix) → verdicts so far, shared
        failed: dict[tuple[str, str], str] = {}  # (problem id, prefix) → the checker's error on one of its rollouts
        active = [item for item in items if item.run is not None]
        for item in active:
            self._advance(item, None)
        round_number = 0
        while True:
            active = [item for item in active if item.probe is not None]
            if not active:
                return
            wanted: dict[tuple[str, str], int] = {}
            owners: dict[tuple[str, str], _Item] = {}
            for item in active:
                prefix = splitters[item.problem.domain].join(item.steps[: item.probe.step + 1] + [""])
                key = (item.problem.id, prefix)
                item.probe_key = key
                upto = item.consumed.get(prefix, 0) + item.probe.count
                wanted[key] = max(wanted.get(key, 0), upto)
                owners.setdefault(key, item)
            groups: dict[int, list[tuple[str, str]]] = defaultdict(list)
            for key, upto in wanted.items():
                need = upto - len(pools.setdefault(key, []))
                if need > 0:
                    groups[need].append(key)
            for need, keys in sorted(groups.items()):
                prompts = [prompts_by_id[problem_id] + prefix for problem_id, prefix in keys]
                temperature = config.temperature if config.rollout_temperature is None else config.rollout_temperature
                keyed = (
                    {"sample_seeds": [rollout_seeds(config.seed, key, len(pools[key]), need) for key in keys]}
                    if self.completer.supports_sample_seeds()
                    else {}
                )
                outputs = Completions.of(
                    self.completer.complete(
                        prompts,
                        n=need,
                        temperature=temperature,
                        top_p=config.top_p,
                        max_new_tokens=config.max_new_tokens,
                        seed=derived_seed(config.seed, "rollout", chunk, round_number, need),
                        **keyed,
                    )
                )
                for position, (key, continuations) in enumerate(zip(keys, outputs)):
                    problem = owners[key].problem
                    checker = checkers[problem.domain]
                    try:
                        pools[key].extend(checker.is_correct(key[1] + c, problem.gold_answer) for c in continuations)
                    except Exception as exc:  # the checker broke its contract: every row probing here records it
                        failed[key] = checker_raised(checker, "is_correct (a rollout)", exc)
                        pools[key].extend([False] * (wanted[key] - len(pools[key])))
                    owners[key].rollouts_generated += need
                    owners[key].rollout_tokens += outputs.tokens(position)
                if on_rollouts is not None:
                    on_rollouts(need * len(keys))
            for item in active:
                if item.probe_key in failed:
                    item.error, item.run, item.probe, item.labels = failed[item.probe_key], None, None, None
                    continue
                prefix = item.probe_key[1]
                start = item.consumed.get(prefix, 0)
                verdicts = pools[item.probe_key][start : start + item.probe.count]
                item.consumed[prefix] = start + item.probe.count
                item.verdicts.setdefault(item.probe.step, []).extend(verdicts)
                self._advance(item, verdicts)
            round_number += 1

    def _record(self, chunk: int, item: _Item) -> dict:
        """The item as an :class:`~verikit.records.AnnotationRecord` (validated), in the dict form shards store."""
        config = self.config
        labels = item.labels or []
        return AnnotationRecord(
            **{
                "key": record_key(item.problem.id, item.sample_index, item.solution),
                "chunk": chunk,
                "problem_id": item.problem.id,
                "domain": config.domain or item.problem.domain,
                "question": item.problem.question,
                "gold_answer": item.problem.gold_answer,
                "sample_index": item.sample_index,
                "solution": item.solution,
                "steps": item.steps,
                "final_answer": item.final_answer,
                "final_correct": item.final_correct,
                "hard_labels": [label.hard for label in labels],
                "soft_labels": [label.soft for label in labels],
                "step_rollouts": [label.n_rollouts for label in labels],
                "step_correct": [label.n_correct for label in labels],
                "verdicts": [
                    "".join("1" if v else "0" for v in item.verdicts.get(i, [])) for i in range(len(item.steps))
                ]
                if labels
                else [],
                "rollouts_used": sum(item.consumed.values()),
                "rollouts_generated": item.rollouts_generated,
                "rollout_tokens": item.rollout_tokens,
                "error": item.error,
                "strategy": config.strategy,
                "n_rollouts": config.n_rollouts,
                "generator": item.generator,
                "completer": config.rollout_model,
                "duplicate_of": item.duplicate_of,
                "seed": config.seed,
                "config_hash": config_hash(config.model_dump()),
            }
        ).model_dump()


def _final_verdict(checker, text: str, gold: str) -> tuple[str | None, bool | None, str | None]:
    """``(answer, correct, None)`` for a solution's final answer, or ``(None, None, error)`` when the checker raised
    (a contract breach recorded as the row's error: annotation goes on with the other rows)."""
    try:
        answer = checker.extract(text)
    except Exception as exc:
        return None, None, checker_raised(checker, "extract", exc)
    try:
        return answer, None if answer is None else bool(checker.equivalent(answer, gold)), None
    except Exception as exc:
        return answer, None, checker_raised(checker, "equivalent", exc)


def gold_error(problem, checker) -> str | None:
    """Why ``problem``'s gold answer cannot grade rollouts, or ``None``. Annotation relies on the checker's
    contract that a gold answer it understands is equivalent to its own normal form."""
    try:
        understood = checker.equivalent(checker.normalize(problem.gold_answer), problem.gold_answer)
    except Exception:  # a checker breaking its never-raise contract on a gold answer: the same verdict
        understood = False
    return (
        None if understood else f"gold answer not understood: {problem.gold_answer!r} by checker {type(checker).name!r}"
    )


def check_gold_answers(problems: list, config: AnnotationConfig) -> list[str]:
    """Every problem's gold answer checked before anything is sampled: the reasons for those not understood.

    Raises :class:`DataError` when no gold answer at all is understood (nothing could be labelled).
    """
    errors = []
    checkers: dict[str, object] = {}  # one checker per domain, as a chunk uses (a checker may cache its verdicts)
    for problem in problems:
        name = config.domain or problem.domain
        if name not in checkers:
            checkers[name] = components.answer_checker(components.domain(name).answer_checker)
        reason = gold_error(problem, checkers[name])
        if reason is not None:
            errors.append(f"problem {problem.id}: {reason}")
    if problems and len(errors) == len(problems):
        raise DataError(
            f"dataset {config.dataset!r} split {config.split!r}: no gold answer is understood, so nothing "
            f"could be labelled (first: {errors[0]})"
        )
    return errors


def prepare_run(config: AnnotationConfig) -> tuple[list, list[str]]:
    """Everything checked without sampling or writing: the dataset, its gold answers, the model folders.
    Returns the problems and the gold answers not understood."""
    problems = components.load_dataset(config.dataset, split=config.split, limit=config.limit)
    if not problems:
        raise DataError(f"dataset {config.dataset!r} split {config.split!r} has no problems")
    gold_errors = check_gold_answers(problems, config)
    if config.backend == "transformers":
        for model in [*config.generator, config.completer]:
            if model is not None:
                require_model(model)
    return problems, gold_errors


def open_run(
    config: AnnotationConfig, out: str | Path, retry_errors: bool = False, prepared: tuple | None = None
) -> tuple[AnnotationStore, AnnotationSummary, list[list], list[int]]:
    """The run's store (created, or resumed with the same config), its summary, its chunks and the chunks to do.

    :func:`prepare_run` (or its result, ``prepared``) comes first, so a run that fails validation writes
    nothing. The folder is then locked for this run (a second writer is refused). ``retry_errors`` drops
    the chunks that hold a record with an error, so they run again.
    """
    problems, gold_errors = prepared or prepare_run(config)
    store = AnnotationStore(out, config=run_manifest(config))
    summary = AnnotationSummary(out=str(out), repairs=list(store.repairs), gold_errors=gold_errors)
    if retry_errors:
        summary.retried = store.drop_errors()
    chunks = [problems[i : i + config.chunk_size] for i in range(0, len(problems), config.chunk_size)]
    per_problem = config.samples_per_problem * len(config.generator)
    todo = [c for c, chunk in enumerate(chunks) if len(store.keys(c)) < per_problem * len(chunk)]
    summary.skipped_chunks = len(chunks) - len(todo)
    summary.problems = len(problems)
    return store, summary, chunks, todo


def progress_bar(config: AnnotationConfig, total: int, started: float, enabled: bool):
    """A tqdm bar over solutions and a callback that shows rollouts per second on it."""
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=f"annotating {config.dataset}", unit="solution", disable=not enabled)
    rollouts = [0]

    def count_rollouts(n):
        rollouts[0] += n
        bar.set_postfix(rollouts_per_s=f"{rollouts[0] / max(1e-9, time.perf_counter() - started):.0f}")

    return bar, count_rollouts


def summarize(store: AnnotationStore, summary: AnnotationSummary, started: float) -> AnnotationSummary:
    """Fill the summary's counts from every stored record."""
    for record in store.records():
        summary.solutions += 1
        if record.get("duplicate_of") is not None:
            summary.duplicates += 1
        elif record["error"]:
            kind = record["error"].split(":")[0]  # "solution has no steps", "gold answer not understood"
            summary.errors[kind] = summary.errors.get(kind, 0) + 1
        summary.rollouts_used += record["rollouts_used"]
        summary.rollouts_generated += record["rollouts_generated"]
        summary.rollout_tokens += record["rollout_tokens"]
    summary.seconds = round(time.perf_counter() - started, 1)
    return summary


def annotate(
    config: AnnotationConfig,
    out: str | Path,
    progress: bool = True,
    annotator: Annotator | None = None,
    retry_errors: bool = False,
) -> AnnotationSummary:
    """Annotate ``config.dataset`` into the folder ``out``; resumes where a previous run of the same config stopped.

    ``retry_errors`` recomputes the solutions stored with an error (e.g. after fixing a checker).
    """
    started = time.perf_counter()
    prepared = prepare_run(config)
    annotator = annotator or Annotator(config)  # a model that does not load fails here, before the folder is made
    store, summary, chunks, todo = open_run(config, out, retry_errors=retry_errors, prepared=prepared)
    per_problem = config.samples_per_problem * len(config.generator)
    bar, count_rollouts = progress_bar(config, sum(len(chunks[c]) for c in todo) * per_problem, started, progress)
    for chunk_index in todo:
        records = annotator.annotate_chunk(chunk_index, chunks[chunk_index], on_rollouts=count_rollouts)
        store.append(chunk_index, records)
        bar.update(len(records))
    bar.close()
    store.close()
    return summarize(store, summary, started)
