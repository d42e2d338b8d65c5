"""`verikit demo`'s orchestration: every stage called in order, the table's layout, results.json's keys and
intervals, and a second run that reuses every stage. The stages themselves (training, annotation, reward
models, sampling) have their own tests; here they are stood in for, so this runs in seconds."""

import json

from typer.testing import CliRunner

import verikit
from verikit.cli import app
from verikit.plugins import get_host


class StepCheckingScorer:
    """Scores a step 0.9 if it is exactly right (the arith gold labeller), else 0.1."""

    def __init__(self, problems):
        self.by_question = {p.question: p for p in problems}
        self.labeller = verikit.domain("arith").load_gold_labeller()

    def score(self, questions, steps):
        return [[0.9 if ok else 0.1 for ok in self.labeller(self.by_question[q], s)] for q, s in zip(questions, steps)]


def _fake_samples(problems, samples):
    from verikit_arith.expressions import parse
    from verikit_arith.problems import canonical_steps

    greedy, sampled = [], []
    for index, problem in enumerate(problems):
        right = "\n".join(canonical_steps(parse(problem.question.removesuffix("=?"))))
        wrong = "Step 1: 1+1=3\nThe answer is 12345"
        greedy.append(right if index % 2 else wrong)
        sampled.append([right if j == 0 else wrong for j in range(samples)])  # the majority is wrong, the PRM is right
    return greedy, sampled


def test_demo_runs_every_stage_writes_the_table_and_reuses_its_stages(tmp_path, monkeypatch):
    from verikit_arith import demo

    calls = []
    problems = verikit.load_dataset("arith-easy", split="test", limit=6)
    monkeypatch.setattr(demo, "_models", lambda preset, settings: calls.append("models") or (tmp_path / "policy", tmp_path / "completer"))
    monkeypatch.setattr(demo, "_annotate", lambda *a: calls.append("annotate") or
                        {"solutions": 24, "accuracy": 0.95, "first_error_agreement": 0.9, "seconds": 1.0})
    trained = []

    def reward_models(annotations, completer, out):
        calls.append("reward models")
        fresh = [] if trained else ["orm", "prm", "likelihood-prm"]
        trained.extend(fresh)
        return {name: 1.0 for name in fresh}

    monkeypatch.setattr(demo, "_reward_models", reward_models)
    greedy, sampled = _fake_samples(problems, 4)
    import verikit.completers.transformers as transformers_completer

    class FakeCompleter:
        def __init__(self, *a, **k):
            pass

        def complete(self, prompts, n=1, temperature=1.0, **kwargs):
            calls.append("sample")
            return [[g] for g in greedy] if temperature == 0 else sampled

    monkeypatch.setattr(transformers_completer, "TransformersCompleter", FakeCompleter)
    monkeypatch.setattr(verikit, "completer", lambda name, **kw: FakeCompleter())
    from verikit import components

    monkeypatch.setattr(components, "load_scorer", lambda path, **kw: StepCheckingScorer(problems))

    get_host().add_commands(app)
    args = ["demo", "--out", str(tmp_path / "demo"), "--test-problems", "6", "--samples", "4"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert calls == ["models", "annotate", "reward models", "sample", "sample"]
    assert "Table 1 (miniature)" in first.output and "SC+PRM (paper)" in first.output
    results = json.loads((tmp_path / "demo" / "results.json").read_text())["arith-easy"]
    expected = {"greedy", "self-consistency", "orm", "sc+orm", "prm", "sc+prm", "likelihood-prm", "sc+likelihood-prm", "pass@n"}
    assert set(results) == expected
    for row in results.values():
        assert 0.0 <= row["ci_low"] <= row["acc"] <= row["ci_high"] <= 1.0
    assert results["greedy"]["acc"] == 0.5 and results["self-consistency"]["acc"] == 0.0
    assert results["prm"]["acc"] == 1.0 and results["pass@n"]["acc"] == 1.0  # the step-checking PRM finds the one right sample
    assert (tmp_path / "demo" / "arith-easy" / "bon.png").stat().st_size > 0
    assert (tmp_path / "demo" / "bon-arith-easy.png").read_bytes() == (tmp_path / "demo" / "arith-easy" / "bon.png").read_bytes()

    calls.clear()
    second = CliRunner().invoke(app, args)
    assert second.exit_code == 0, second.output
    assert "sample" not in calls and "trained nothing (all cached)" in second.output
    assert json.loads((tmp_path / "demo" / "results.json").read_text())["arith-easy"] == results
