"""PRM-guided step-level beam search on a scripted completer and scorer."""

import verikit
from verikit.beam import step_beam_search


class ScriptedCompleter:
    """Next steps by depth: two good and two bad continuations; the third step ends the solution."""

    def __init__(self):
        self.calls = []

    def complete(self, prompts, n=1, **kwargs):
        self.calls.append(len(prompts))
        out = []
        for prompt in prompts:
            depth = prompt.count("\n") - 1  # the prompt itself ends with one newline
            if depth >= 2:
                out.append([f"The answer is {'good' if 'bad' not in prompt else 'bad'}"] * n)
            else:
                out.append([f"good {depth}-{j}\n" if j % 2 == 0 else f"bad {depth}-{j}\n" for j in range(n)])
        return verikit.Completions(out, [[3] * n for _ in prompts])


class StepScorer:
    def score(self, questions, steps):
        return [[0.9 if "bad" not in s else 0.1 for s in solution] for solution in steps]


def test_beam_search_keeps_the_best_scored_partial_solutions_and_counts_tokens():
    completer = ScriptedCompleter()
    [result] = step_beam_search(
        ["q"], ["q\n"], completer, StepScorer(), verikit.step_splitter("lines"), beam_width=2, expansions=4, max_steps=5
    )
    assert "bad" not in result.text and result.text.endswith("The answer is good")
    assert result.score == 0.9
    # depth 0: one beam × 4, depth 1: 2 beams × 4, depth 2: 2 beams × 4 (they finish) → 3 calls, 20 continuations
    assert completer.calls == [1, 2, 2] and result.tokens == 3 * (4 + 8 + 8)
    assert all(b.finished for b in result.finished)


def test_a_search_that_never_finishes_stops_at_max_steps_with_its_best_beam():
    class Endless(ScriptedCompleter):
        def complete(self, prompts, n=1, **kwargs):
            return verikit.Completions([["good step\n"] * n for _ in prompts], [[1] * n for _ in prompts])

    [result] = step_beam_search(
        ["q"], ["q\n"], Endless(), StepScorer(), verikit.step_splitter("lines"), beam_width=1, expansions=2, max_steps=3
    )
    assert result.text.count("good step") == 3 and result.finished
