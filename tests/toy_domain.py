"""A domain defined by the tests, so that the core's tests need no domain plugin: running sums.

``3+4+5=?`` is solved as ``Step 1: 3+4=7``, ``Step 2: 7+5=12``, ``The answer is 12``, one step per line. A step
is right when its result is the true running sum; the answer line when it states the gold answer. Install it
with the ``toy`` fixture (a plugin host holding the core's components and this module, nothing else).
"""

from __future__ import annotations

import random
import re

from verikit import AnswerChecker, Domain, Problem
from verikit.hookspecs import hookimpl

SPLITS = {"train": 1, "dev": 2, "test": 3}
_ANSWER = re.compile(r"The answer is (-?\d+)")
_STEP = re.compile(r"Step \d+: (-?\d+)\+(-?\d+)=(-?\d+)$")


class SumChecker(AnswerChecker):
    name = "sums"

    def extract(self, text):
        found = _ANSWER.findall(text[-200:])
        return found[-1] if found else None

    def normalize(self, answer):
        """The integer as a canonical string; ``None`` for anything that is not an integer."""
        return str(int(answer)) if answer is not None and re.fullmatch(r"\s*-?\d+\s*", answer) else None

    def equivalent(self, pred, gold):
        return self.normalize(pred) is not None and self.normalize(pred) == self.normalize(gold)


def gold_steps(numbers: list[int]) -> list[str]:
    steps, total = [], numbers[0]
    for index, number in enumerate(numbers[1:], start=1):
        steps.append(f"Step {index}: {total}+{number}={total + number}")
        total += number
    return steps + [f"The answer is {total}"]


def with_slip(numbers: list[int], at: int) -> list[str]:
    """Gold steps except that step ``at`` is off by one, and the steps after it carry the slip on."""
    steps, total = [], numbers[0]
    for index, number in enumerate(numbers[1:], start=1):
        result = total + number + (1 if index - 1 == at else 0)
        steps.append(f"Step {index}: {total}+{number}={result}")
        total = result
    return steps + [f"The answer is {total}"]


def load_sums(split: str = "test", data_dir=None, limit: int | None = None) -> list[Problem]:
    rng = random.Random(SPLITS[split])
    problems = []
    for index in range(limit or 50):
        numbers = [rng.randint(1, 9) for _ in range(rng.randint(3, 4))]
        problems.append(
            Problem(
                id=f"sums-{split}-{index}",
                question="+".join(map(str, numbers)) + "=?",
                gold_answer=str(sum(numbers)),
                domain="sums",
                gold_steps=gold_steps(numbers),
                metadata={"numbers": numbers},
            )
        )
    return problems


def step_labels(problem: Problem, steps: list[str]) -> list[bool]:
    """The exact verdict of each step: its result is the running sum (the answer line: the gold answer)."""
    numbers, verdicts = problem.metadata["numbers"], []
    total = numbers[0]
    for index, step in enumerate(steps):
        match = _STEP.match(step.strip())
        if match and index + 1 < len(numbers):
            total += numbers[index + 1]
            verdicts.append(int(match.group(3)) == total)
        else:
            verdicts.append(SumChecker().is_correct(step, problem.gold_answer))
    return verdicts


def texts(count: int = 40) -> list[str]:
    """Prompts followed by gold solutions: what the tiny test models' tokenizers are trained on."""
    return [f"{p.question}\n" + "\n".join(p.gold_steps) for p in load_sums("train", limit=count)]


@hookimpl
def register_answer_checkers(register):
    register("sums", SumChecker)


@hookimpl
def register_datasets(register):
    register("sums", "toy_domain:load_sums")  # looked up when first used: a test may replace it before


@hookimpl
def register_domains(register):
    register(
        "sums",
        Domain(
            name="sums",
            answer_checker="sums",
            step_splitter="lines",
            datasets=["sums"],
            gold_labeller="toy_domain:step_labels",
        ),
    )


def char_tokenizer():
    """One token per printable character and newline (plus ``ки``): multi-character stop strings are several
    tokens, as the completer's tests need; ``<s>`` first, padding on the left."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<s>", "</s>", "<unk>"]
    characters = ["\n"] + [chr(code) for code in range(32, 127)]
    core = Tokenizer(models.WordLevel(vocab={t: i for i, t in enumerate(specials + characters)}, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split("\n", behavior="isolated"), pre_tokenizers.Split(Regex("."), behavior="isolated")]
    )
    core.decoder = decoders.Fuse()
    core.add_special_tokens(specials)
    core.add_tokens(["ки"])
    core.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        padding_side="left",
    )


def labelled_examples(count: int = 48):
    """Reward-model training examples: gold solutions and ones with a slip, labelled by the exact labeller."""
    from verikit.rm.data import ExampleSet, StepExample

    examples = []
    for index, problem in enumerate(load_sums("train", limit=count)):
        numbers = problem.metadata["numbers"]
        steps = gold_steps(numbers) if index % 2 else with_slip(numbers, index % (len(numbers) - 1))
        labels = step_labels(problem, steps)
        examples.append(StepExample(problem.question, steps, [float(v) for v in labels], all(labels), f"row {index}"))
    return ExampleSet(examples)
