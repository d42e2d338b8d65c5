"""The plugin author's guide stays true: every hookspec is documented and its example plugin runs."""

import inspect
import re
import types
from pathlib import Path

import pytest

import verikit
from verikit import hookspecs
from verikit.plugins import PluginHost, reset_plugins

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"


def _hookspec_names():
    return [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(fn, "verikit_spec")]


def test_every_hookspec_is_documented_with_a_heading_and_an_example():
    text = GUIDE.read_text()
    names = _hookspec_names()
    assert len(names) >= 7
    for name in names:
        section = re.search(rf"### `{name}\((\w+)\)`(.*?)(?=\n### |\Z)", text, re.S)
        assert section, f"docs/plugins.md has no section for hookspec {name}"
        assert "```python" in section.group(2), f"the section for {name} has no example"
        spec_args = list(inspect.signature(getattr(hookspecs, name)).parameters)
        assert [section.group(1)] == spec_args, f"{name}: documented argument differs from the spec"


def test_every_hookspec_has_a_docstring():
    for name in _hookspec_names():
        assert (getattr(hookspecs, name).__doc__ or "").strip(), name


def _block(info: str) -> str:
    """The guide's fenced block whose info string is ``info`` (e.g. ``python example-stage``)."""
    return re.search(rf"```{info}\n(.*?)```", GUIDE.read_text(), re.S).group(1)


def test_the_complete_example_plugin_from_the_guide_works():
    source = _block("python plugin-example")
    assert len(source.strip().splitlines()) <= 60
    module = types.ModuleType("verikit_yesno")
    exec(compile(source, str(GUIDE), "exec"), module.__dict__)
    reset_plugins(PluginHost(extra_plugins=(module,)))
    assert verikit.answer_checker("yes-no").is_correct("Seven has no divisors. So: yes.", "yes")
    assert verikit.step_splitter("sentences").split("a. b") == ["a", "b"]
    problems = verikit.load_dataset("yesno")
    assert [p.gold_answer for p in problems] == ["yes", "no"]
    assert verikit.domain("yes-no").answer_checker == "yes-no"


def _example(tag: str) -> types.ModuleType:
    """The plugin module of the guide's block ```python example-TAG, registered on a fresh host."""
    source = _block(f"python example-{tag}")
    module = types.ModuleType(f"verikit_example_{tag}")
    exec(compile(source, f"{GUIDE}[{tag}]", "exec"), module.__dict__)
    reset_plugins(PluginHost(load_entry_points=False, extra_plugins=(module,)))
    return module


def test_the_guides_strategy_runs_in_the_annotation_replay_and_is_a_cli_choice():
    from verikit.annotation.strategies import run_with_pool
    from verikit.components import names

    _example("strategy")
    assert "every-other" in names("strategies")
    pool = [[True, False], [False, False], [False, True], [False, False]]
    labels, used = run_with_pool("every-other", 4, 2, pool, None)
    assert used == 4  # steps 3 and 1 were probed, 2 rollouts each
    assert [label.hard for label in labels] == [False, False, False, False]
    pool[1] = [True, False]
    labels, _ = run_with_pool("every-other", 4, 2, pool, None)
    assert [label.hard for label in labels] == [True, True, False, False]


def test_the_guides_selector_is_evaluated_by_best_of_n_curves():
    from verikit.bon import ProblemSamples, bon_curves

    _example("selector")
    problems = [
        ProblemSamples(["1", "2", "2"], [True, False, False], {"rm": [0.9, 0.2, 0.3]}),
        ProblemSamples(["5", "5", "6"], [False, False, True], {"rm": [0.1, 0.2, 0.8]}),
    ]
    curves = bon_curves(problems, {"mine": ("confident-majority", "rm"), "sc": ("self-consistency", None)}, ns=[3])
    assert curves["mine"][3]["acc"] == 1.0 and curves["sc"][3]["acc"] == 0.0


def test_the_guides_scorer_is_chosen_by_the_kind_in_a_model_folder(tmp_path):
    import json

    _example("scorer")
    (tmp_path / "verikit_rm.json").write_text(json.dumps({"kind": "keyword", "word": "guess"}))
    scorer = verikit.scorer(tmp_path, batch_size=4, device="cpu")  # options it does not take are not passed
    assert isinstance(scorer, verikit.Scorer)
    assert scorer.score(["q"], [["2+2=4", "I guess 5"]]) == [[0.9, 0.1]]
    assert scorer.score_solutions(["q", "q"], [["a", "guess"], ["a"]]) == [0.1, 0.9]


def test_the_guides_completer_drives_beam_search_and_reports_tokens():
    from verikit.beam import step_beam_search

    class Scorer:
        def score(self, questions, steps):
            return [[0.5] * len(s) for s in steps]

    _example("completer")
    from verikit.components import lookup
    from verikit.interfaces import accepted_settings

    factory = lookup("completers", "script")  # what an annotation run hands this backend: no device, no batch size
    assert accepted_settings(factory, batch_size=8, device="cpu", max_new_tokens=9) == {"max_new_tokens": 9}
    completer = verikit.completer("script", model="The answer is 4.")
    got = completer.complete(["q1", "q2"], n=2)
    assert list(got) == [["The answer is 4."] * 2] * 2 and got.token_counts == [[4, 4], [4, 4]]
    [result] = step_beam_search(
        ["q"], ["q\n"], completer, Scorer(), verikit.step_splitter("lines"), beam_width=1, expansions=2, max_steps=2
    )
    assert result.text == "The answer is 4." and result.tokens == 8


ROOT = GUIDE.parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", text))


def _anchors(path: Path) -> set[str]:
    return {_slug(m.group(1)) for m in re.finditer(r"^#+ (.+)$", path.read_text(encoding="utf-8"), re.M)}


def test_every_relative_link_in_the_readme_and_docs_resolves():
    broken = []
    for document in DOCUMENTS:
        for target in re.findall(r"\]\(([^)\s]+)\)", document.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+://|mailto:", target):
                continue
            file_part, _, anchor = target.partition("#")
            path = (document.parent / file_part).resolve() if file_part else document
            if not path.exists():
                broken.append(f"{document.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
                broken.append(f"{document.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []


def test_the_link_checker_sees_a_broken_link(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n[ok](#title) [gone](missing.md) [bad anchor](#nothing)\n")
    targets = re.findall(r"\]\(([^)\s]+)\)", page.read_text())
    assert [t for t in targets if not t.startswith("#") and not (tmp_path / t).exists()] == ["missing.md"]
    assert [t for t in targets if t.startswith("#") and t[1:] not in _anchors(page)] == ["#nothing"]


def test_the_readme_is_a_front_door():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 150
    assert "make demo" in lines[lines.index("```") + 1] and "make test" in lines[lines.index("```") + 2]


# -- a stage, a reward-model kind and an RL algorithm: each one module and one registration ----------------------

GUIDE_RECIPE = """
name: guide
models: {{generator: {model}}}
annotate:
  datasets: [{{name: sums, split: train, limit: 4}}]
  samples_per_problem: 2
  n_rollouts: 2
  max_new_tokens: 12
  chunk_size: 2
reward_models: {reward_models}
sample:
  datasets: [{{name: sums, split: test, limit: 3}}]
  samples: 3
  max_new_tokens: 12
  chunk_size: 2
select: {{repeats: 2}}
{extra}
"""


def _guide_recipe(tmp_path, model, reward_models="[]", extra=""):
    path = tmp_path / "guide.yaml"
    path.write_text(GUIDE_RECIPE.format(model=model, reward_models=reward_models, extra=extra))
    return path


def _with_toy(module):
    import toy_domain

    reset_plugins(PluginHost(load_entry_points=False, extra_plugins=(toy_domain, module)))


def test_the_guides_stage_runs_in_the_pipeline_from_its_own_recipe_section(toy, toy_lm, tmp_path, run_cli):
    import json

    from verikit.pipeline import reproduce

    module = _example("stage")
    _with_toy(module)
    recipe = _guide_recipe(tmp_path, toy_lm, extra="lengths: {bins: [5, 20]}")
    report = reproduce(recipe, tmp_path / "run")
    histogram = json.loads((tmp_path / "run" / "lengths.json").read_text())
    assert set(histogram) == {"sums-test"} and sum(histogram["sums-test"]) == 9 and len(histogram["sums-test"]) == 3
    assert report["stages"]["lengths"]["result"] == histogram
    order = list(report["stages"])
    assert order.index("lengths") > order.index("sample")
    code, output = run_cli(["stages"])
    assert code == 0 and "lengths\tlengths\ta histogram" in output
    bad = _guide_recipe(tmp_path, toy_lm, extra="lengths: {bins: [5, 20], colour: red}")
    code, output = run_cli(["reproduce", "--recipe", bad, "--check"])
    assert code != 0 and "'lengths.colour'" in output and "unknown field" in output
    typo = _guide_recipe(tmp_path, toy_lm, extra="lenghts: {bins: [5]}")
    code, output = run_cli(["reproduce", "--recipe", typo, "--check"])
    assert code != 0 and "'lenghts'" in output and "lengths" in output


def test_the_guides_reward_model_kind_is_trained_scored_and_selected_by_the_pipeline(toy, toy_lm, tmp_path):
    import json

    from verikit.pipeline import reproduce

    module = _example("kind")
    _with_toy(module)
    recipe = _guide_recipe(tmp_path, toy_lm, reward_models="[{name: lp, kind: length-prior, training: {bucket: 3}}]")
    report = reproduce(recipe, tmp_path / "run")
    manifest = json.loads((tmp_path / "run" / "reward_models" / "lp" / "verikit_rm.json").read_text())
    assert manifest["kind"] == "length-prior" and manifest["bucket"] == 3 and manifest["table"]
    assert {"lp", "sc+lp"} <= set(report["best_of_n"]["sums-test"])
    assert isinstance(verikit.scorer(tmp_path / "run" / "reward_models" / "lp"), module.LengthPrior)
    wrong = _guide_recipe(tmp_path, toy_lm, reward_models="[{name: lp, kind: length-prior, training: {buckets: 3}}]")

    from verikit.errors import DataError

    with pytest.raises(DataError, match="training.buckets: unknown field"):
        reproduce(wrong, tmp_path / "never")


def test_the_guides_rl_algorithm_runs_from_the_command_line(toy, toy_lm, tmp_path, run_cli):
    import json

    module = _example("rl")
    _with_toy(module)
    code, output = run_cli(
        [
            "rl",
            "--algo",
            "reference-sft",
            "--policy",
            toy_lm,
            "--dataset",
            "sums",
            "--train-problems",
            4,
            "--eval-problems",
            2,
            "--rft-epochs",
            1,
            "--max-new-tokens",
            8,
            "--out",
            tmp_path / "rl",
        ]
    )
    assert code == 0, output
    summary = json.loads((tmp_path / "rl" / "rl.json").read_text())
    assert summary["algo"] == "reference-sft" and summary["pairs"] == 4 and 0 <= summary["dev_greedy_acc"] <= 1
    assert (tmp_path / "rl" / "model" / "config.json").exists()


@pytest.mark.slow
def test_the_guides_domain_reaches_a_table_1(tmp_path, monkeypatch, run_cli):
    """The guide's "From a plugin to a Table 1" as a plugin author would use it: the yes/no plugin, the divisible
    domain and its provider, the recipe file beside the module, `verikit reproduce --recipe divisible-small`."""
    import json

    source = _block("python plugin-example") + "\n" + _block("python example-table1")
    package = tmp_path / "verikit_divisible"
    package.mkdir()
    (package / "divisible-small.yaml").write_text(_block("yaml example-table1-recipe"))
    module = types.ModuleType("verikit_divisible")
    module.__file__ = str(package / "__init__.py")
    exec(compile(source, str(GUIDE), "exec"), module.__dict__)
    monkeypatch.setenv("VERIKIT_CACHE", str(tmp_path / "cache"))
    reset_plugins(PluginHost(load_entry_points=False, extra_plugins=(module,)))
    try:
        smaller = ["annotate.datasets.0.limit=80", "annotate.n_rollouts=4", "sample.datasets.0.limit=60"]
        code, output = run_cli(
            ["reproduce", "--recipe", "divisible-small", "--out", tmp_path / "run"]
            + [arg for assignment in smaller for arg in ("--set", assignment)]
        )
    finally:
        reset_plugins()
    assert code == 0, output
    table = json.loads((tmp_path / "run" / "report.json").read_text())["best_of_n"]["divisible-test"]
    assert {"greedy", "self-consistency", "orm", "prm", "likelihood-prm", "sc+prm"} <= set(table)
    assert table["greedy"]["acc"] >= 0.4  # the provider's generator learnt the domain (a random model: ~0)
    assert table["pass@n"]["acc"] > table["greedy"]["acc"]  # and its samples differ: best-of-N has a choice
    assert (tmp_path / "cache" / "divisible-tiny" / "tiny_lm.json").exists()
    assert "divisible-small" in output and "prm" in output
