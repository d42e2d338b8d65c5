"""Best-of-N curves: a selector's accuracy as the number of samples per problem grows.

Each problem comes with M sampled solutions: their normalised answers, whether each is correct, and one
score per reward model. For every N ≤ M the accuracy is estimated by drawing ``repeats`` random subsets
of N samples per problem (without replacement; seeded), so a curve point is a mean over orderings, with
a 95% interval that also resamples the problems (the paper's Figure 3 analogue).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from verikit.components import selector
from verikit.format import readable_steps
from verikit.metrics import aggregate, pairwise_auc, percentile_interval


@dataclass
class ProblemSamples:
    answers: list[str | None]
    correct: list[bool]
    scores: dict[str, list[float]]  # reward model name → one score per sample


@dataclass
class ReadableSample:
    """A sample a PRM can read: where it belongs, its question and its steps."""

    problem_index: int
    sample_index: int
    question: str
    steps: list[str]


def gather_samples(
    problems: Sequence, texts: Sequence[Sequence[str]], checker, splitter
) -> tuple[list[ProblemSamples], list[ReadableSample], int]:
    """Answers and verdicts of every sampled text, and the samples a PRM can score.

    A sample with no steps, or with the step tag in its own text, cannot be read by a tag-reading PRM:
    it is left out of the readable list, keeps the score 0 (the lowest) from :func:`set_scores`, so it is
    never preferred, and is counted in the third return value.
    """
    entries, readable, unscorable = [], [], 0
    for problem_index, (problem, samples) in enumerate(zip(problems, texts)):
        answers, correct = [], []
        for sample_index, text in enumerate(samples):
            answer = checker.extract(text)
            answers.append(None if answer is None else checker.normalize(answer))
            correct.append(answer is not None and checker.equivalent(answer, problem.gold_answer))
            steps = readable_steps(splitter, text)
            if steps:
                readable.append(ReadableSample(problem_index, sample_index, problem.question, steps))
            else:
                unscorable += 1
        entries.append(ProblemSamples(answers, correct, {}))
    return entries, readable, unscorable


def set_scores(
    entries: Sequence[ProblemSamples],
    readable: Sequence[ReadableSample],
    step_scores: Sequence[Sequence[float]],
    key: str,
    agg: str,
) -> None:
    """Store each readable sample's aggregated score under ``key``; unreadable samples score 0."""
    for entry in entries:
        entry.scores[key] = [0.0] * len(entry.answers)
    for sample, scores in zip(readable, step_scores, strict=True):
        entries[sample.problem_index].scores[key][sample.sample_index] = aggregate(scores, agg)


def within_problem_pairwise_auc(entries: Sequence[ProblemSamples], key: str) -> float | None:
    """How often the reward model ``key`` scores a correct sample of a problem above a wrong one of the same problem."""
    scores = {(i, j): s for i, e in enumerate(entries) for j, s in enumerate(e.scores[key])}
    correct = {(i, j): c for i, e in enumerate(entries) for j, c in enumerate(e.correct)}
    groups = {i: [(i, j) for j in range(len(e.correct))] for i, e in enumerate(entries)}
    return pairwise_auc(groups, scores, correct)


def selection_verdicts(
    problems: Sequence[ProblemSamples],
    selector: Callable,
    model: str | None,
    subsets: Sequence[Sequence[int]] | None = None,
) -> list[bool]:
    """Per problem: did the selector, shown only ``subset`` of its samples, pick a correct one?"""
    verdicts = []
    subsets = subsets if subsets is not None else [range(len(p.answers)) for p in problems]
    for problem, subset in zip(problems, subsets):
        answers = [problem.answers[i] for i in subset]
        scores = None if model is None else [problem.scores[model][i] for i in subset]
        chosen = selector(answers, scores)
        verdicts.append(chosen is not None and problem.correct[subset[chosen]])
    return verdicts


def bon_curves(
    problems: Sequence[ProblemSamples],
    methods: dict[str, tuple[str, str | None]],
    ns: Sequence[int],
    repeats: int = 50,
    seed: int = 0,
) -> dict:
    """``{method: {N: {acc, ci_low, ci_high}}}``. ``methods``: name → (selector name, reward model or None).

    ``acc`` is the mean over ``repeats`` random subsets of N samples per problem (one draw when N is every
    sample). The 95% interval also resamples the problems (a bootstrap, one resample per draw), so it
    stays honest at N = all samples, where subsampling alone has no spread. Every method sees the same
    subsets and resamples, so differences between methods are paired.
    """
    rng = random.Random(seed)
    smallest = min(len(p.answers) for p in problems)
    result: dict = {name: {} for name in methods}
    for n in ns:
        draws = [
            [sorted(rng.sample(range(len(p.answers)), n)) for p in problems]
            for _ in range(repeats if n < smallest else 1)
        ]
        resamples = [[rng.randrange(len(problems)) for _ in problems] for _ in range(repeats)]
        for name, (selector_name, model) in methods.items():
            per_draw = [selection_verdicts(problems, selector(selector_name), model, subsets) for subsets in draws]
            mean = sum(sum(v) / len(v) for v in per_draw) / len(per_draw)
            boot = [
                sum(per_draw[i % len(per_draw)][j] for j in picks) / len(picks) for i, picks in enumerate(resamples)
            ]
            low, high = percentile_interval(boot, around=mean)
            result[name][n] = {"acc": mean, "ci_low": low, "ci_high": high}
    return result


def plot_curves(curves: dict, path, title: str = "best-of-N") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axis = plt.subplots(figsize=(9, 4.5))
    colours = plt.get_cmap("tab20").colors  # more methods than the default cycle's 10 colours
    for index, (name, points) in enumerate(curves.items()):
        ns = sorted(points, key=int)
        colour = colours[index % len(colours)]
        xs = [int(n) for n in ns]  # keys are strings after a JSON round trip
        axis.plot(xs, [100 * points[n]["acc"] for n in ns], marker="o", color=colour, label=name)
        axis.fill_between(
            xs,
            [100 * points[n]["ci_low"] for n in ns],
            [100 * points[n]["ci_high"] for n in ns],
            color=colour,
            alpha=0.12,
        )
    axis.set_xscale("log", base=2)
    axis.set_xlabel("N solutions per problem")
    axis.set_ylabel("accuracy (%)")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small")  # outside: never over the curves
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
