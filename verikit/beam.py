"""PRM-guided step-level beam search (beyond the paper, which only reranks finished samples).

Each of ``beam_width`` partial solutions is extended by ``expansions`` sampled next steps (one completer
call per depth for every problem at once, stopped at the step separator); every candidate is scored by the
PRM as a partial solution (its aggregated step scores); the best ``beam_width`` candidates survive. A
candidate whose continuation ended without a separator (end of text or token limit) is finished and
competes with the live beams from then on. The answer is the best finished solution's. Generated tokens
are counted so that the search can be compared with best-of-N at an equal token budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from verikit.format import readable_steps
from verikit.interfaces import Completions
from verikit.metrics import aggregate


@dataclass
class Beam:
    text: str
    score: float
    finished: bool = False


@dataclass
class BeamSearchResult:
    text: str | None
    score: float | None
    tokens: int
    finished: list[Beam] = field(default_factory=list)


def step_beam_search(
    questions: Sequence[str],
    prompts: Sequence[str],
    completer,
    scorer,
    splitter,
    *,
    beam_width: int = 4,
    expansions: int = 4,
    max_steps: int = 12,
    step_stop: str = "\n",
    temperature: float = 1.0,
    max_step_tokens: int = 48,
    agg: str = "min",
    seed: int = 0,
    progress=None,
) -> list[BeamSearchResult]:
    """Beam search over steps for each problem; ``prompts[i]`` is what the completer sees for ``questions[i]``."""

    beams: list[list[Beam]] = [[Beam("", 0.0)] for _ in questions]
    done: list[list[Beam]] = [[] for _ in questions]
    tokens = [0] * len(questions)
    for depth in range(max_steps):
        owners = [(i, b) for i, problem_beams in enumerate(beams) for b in problem_beams]
        if not owners:
            break
        continuations = Completions.of(
            completer.complete(
                [prompts[i] + b.text for i, b in owners],
                n=expansions,
                temperature=temperature,
                max_new_tokens=max_step_tokens,
                stop=[step_stop],
                seed=seed * 10_007 + depth,
            )
        )
        candidates: list[list[Beam]] = [[] for _ in questions]
        for position, ((i, beam), texts) in enumerate(zip(owners, continuations)):
            tokens[i] += continuations.tokens(position)
            for text in texts:
                finished = not text.endswith(step_stop) or depth == max_steps - 1
                candidates[i].append(Beam(beam.text + text, 0.0, finished))
        readable = [(i, c) for i in range(len(questions)) for c in candidates[i]]
        steps = [readable_steps(splitter, c.text) for _, c in readable]
        scorable = [k for k, s in enumerate(steps) if s]
        scores = (
            scorer.score([questions[readable[k][0]] for k in scorable], [steps[k] for k in scorable])
            if scorable
            else []
        )
        for k, step_scores in zip(scorable, scores):
            readable[k][1].score = aggregate(step_scores, agg)
        for i in range(len(questions)):
            pool = sorted(candidates[i] + done[i], key=lambda b: -b.score)[:beam_width]
            done[i] = [b for b in pool if b.finished]
            beams[i] = [b for b in pool if not b.finished]
        if progress is not None:
            progress(depth + 1)
    results = []
    for i in range(len(questions)):
        best = max(done[i] + beams[i], key=lambda b: b.score, default=None)
        results.append(
            BeamSearchResult(
                None if best is None else best.text, None if best is None else best.score, tokens[i], done[i]
            )
        )
    return results
