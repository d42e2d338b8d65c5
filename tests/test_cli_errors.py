"""Errors a user can act on: each bad input the CLI meets ends in a one-line message naming file, line and
field (or the valid choices), a non-zero exit, no traceback and nothing half-written."""

import json
import pickle

import pytest

from verikit.annotation.storage import AnnotationStore
from verikit.errors import DataError


def write_lines(path, lines):
    path.write_bytes(b"".join((line if isinstance(line, bytes) else line.encode()) + b"\n" for line in lines))
    return path


# -- check ------------------------------------------------------------------------------------------------------
def test_check_refuses_a_gold_answer_its_checker_cannot_read(tmp_path, run_cli, toy):
    data = write_lines(
        tmp_path / "rows.jsonl",
        ['{"solution": "The answer is 4", "gold": "4"}', '{"solution": "The answer is 4", "gold": "four"}'],
    )
    code, output = run_cli(["check", data, "--checker", "sums"])
    assert code == 2 and f"{data}:2: field 'gold'" in output and "does not understand" in output


def test_check_of_an_empty_file_is_an_error_not_zero_of_zero(tmp_path, run_cli, toy):
    code, output = run_cli(["check", write_lines(tmp_path / "empty.jsonl", [""]), "--checker", "sums"])
    assert code == 2 and "no rows" in output


@pytest.mark.parametrize(
    "line, words",
    [
        (b'{"solution": "\xff\xfe", "gold": "1"}', "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"solution": "\\ud800 #### 1", "gold": "1"}', "lone surrogate"),
    ],
)
def test_unreadable_lines_are_named_by_file_and_line(tmp_path, line, words, run_cli, toy):
    data = write_lines(tmp_path / "rows.jsonl", ['{"solution": "The answer is 1", "gold": "1"}', line])
    code, output = run_cli(["check", data, "--checker", "sums"])
    assert code == 2 and f"{data}:2" in output and words in output


# -- annotation folders -------------------------------------------------------------------------------------------
def test_a_broken_manifest_and_a_stray_shard_are_named(tmp_path, run_cli, annotation_record):
    folder = tmp_path / "ann"
    AnnotationStore(folder, {"x": 1}).append(0, [annotation_record()])
    (folder / "manifest.json").write_text("{not json")
    code, output = run_cli(["export", "--annotations", folder, "--format", "trl", "--out", tmp_path / "o.jsonl"])
    assert code == 2 and "manifest.json" in output and "broken manifest" in output

    (folder / "manifest.json").write_text('{"x": 1}')
    (folder / "shard-copy.jsonl").write_text("")
    code, output = run_cli(["export", "--annotations", folder, "--format", "trl", "--out", tmp_path / "o.jsonl"])
    assert code == 2 and "shard-copy.jsonl" in output


def test_export_validates_labels_and_never_leaves_partial_output(tmp_path, run_cli, annotation_record):
    folder = tmp_path / "ann"
    store = AnnotationStore(folder, {"x": 1})
    store.append(0, [annotation_record()])
    out = tmp_path / "out.jsonl"
    out.write_text("precious\n")
    code, output = run_cli(
        ["export", "--annotations", folder, "--format", "math-shepherd", "--out", out, "--labels", "gold"]
    )
    assert code == 2 and "hard_labels or soft_labels" in output
    store.append(1, [{**annotation_record(sample_index=1), "hard_labels": [True, False]}])  # a label too many
    code, output = run_cli(["export", "--annotations", folder, "--format", "math-shepherd", "--out", out])
    assert code == 2 and "shard-00001.jsonl:1: 1 steps but label lists of lengths [1, 2]" in output
    assert out.read_text() == "precious\n" and [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


# -- reward models --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("label", ["NaN", "1.5", "-0.1", '"yes"'])
def test_train_prm_refuses_labels_outside_zero_one_before_writing_anything(tmp_path, label, run_cli):
    data = write_lines(
        tmp_path / "trl.jsonl", ['{"prompt": "q", "completions": ["a", "b"], "labels": [1, %s]}' % label]
    )
    out = tmp_path / "prm"
    code, output = run_cli(["train-prm", "--data", data, "--base", tmp_path / "nowhere", "--out", out])
    assert code == 2 and f"{data}:1: field 'labels" in output
    assert not out.exists()


def test_a_missing_model_folder_is_one_line(tmp_path, run_cli):
    data = write_lines(tmp_path / "rows.jsonl", ['{"question": "q", "steps": ["a"]}'])
    code, output = run_cli(["score", "--model", tmp_path / "no-such-model", "--input", data])
    assert code == 2 and "no such model folder" in output and len(output.strip().splitlines()) == 1


def test_score_refuses_a_bad_aggregation_before_loading_anything(tmp_path, run_cli):
    data = write_lines(tmp_path / "rows.jsonl", ['{"question": "q", "steps": ["a"]}'])
    code, output = run_cli(["score", "--model", tmp_path / "no-such-model", "--input", data, "--agg", "median"])
    assert code == 2 and "min, prod, last, mean" in output


def test_score_refuses_a_model_that_is_not_a_prm(tmp_path, run_cli):
    from verikit.tiny_models import build_tiny_causal_lm

    model = build_tiny_causal_lm(tmp_path / "lm", ["Step 1: 1 + 1 = 2"] * 20, vocab_size=300)
    data = write_lines(tmp_path / "rows.jsonl", ['{"question": "q", "steps": ["Step 1: 1 + 1 = 2"]}'])
    code, output = run_cli(["score", "--model", model, "--input", data])
    assert code == 2 and "not a reward model trained by verikit" in output and "--released-convention" in output
    code, output = run_cli(["score", "--model", model, "--input", data, "--released-convention"])
    assert code == 0 and '"step_scores"' in output


def test_a_lone_surrogate_in_score_input_is_named(tmp_path, run_cli):
    data = write_lines(
        tmp_path / "rows.jsonl", ['{"question": "q", "steps": ["a"]}', '{"question": "q", "steps": ["\\udc00"]}']
    )
    code, output = run_cli(["score", "--model", tmp_path / "no-such-model", "--input", data])
    assert code == 2  # the model check comes first here; the reader is checked below on its own
    with pytest.raises(DataError, match=r"rows.jsonl:2: field 'steps'"):
        from verikit.jsonl import read_jsonl

        list(read_jsonl(data))


class _Planted:
    def __reduce__(self):
        import os

        return (os.system, (f"touch {_Planted.marker}",))


def test_a_planted_pickle_in_a_ppo_folder_never_runs(tmp_path):
    from verikit.rl.ppo import load_state

    _Planted.marker = tmp_path / "pwned"
    state = tmp_path / "ppo_state.pt"
    state.write_bytes(pickle.dumps({"value_head": _Planted()}))
    with pytest.raises(DataError, match="can load safely"):
        load_state(state)
    assert not _Planted.marker.exists()


# -- plugins -----------------------------------------------------------------------------------------------------
def test_strict_plugins_fail_in_one_line(monkeypatch, run_cli):
    from verikit import plugins

    monkeypatch.setattr(plugins, "DEFAULT_PLUGINS", (*plugins.DEFAULT_PLUGINS, "verikit_no_such_plugin_module"))
    monkeypatch.setenv("VERIKIT_STRICT_PLUGINS", "1")
    code, output = run_cli(["plugins"])
    assert code == 2 and "verikit_no_such_plugin_module" in output and len(output.strip().splitlines()) == 1


def test_load_plugins_naming_nothing_installed_is_said(monkeypatch, run_cli):
    monkeypatch.setenv("VERIKIT_LOAD_PLUGINS", "verikit-mathh")
    code, output = run_cli(["plugins", "--json"])
    assert code == 0
    assert "names 'verikit-mathh', which no installed plugin is" in output
    assert (
        "bundled domain plugins included" in json.loads(output[output.index("{") : output.rindex("}") + 1])["notes"][0]
    )


def test_the_winner_of_a_name_clash_does_not_depend_on_discovery_order(monkeypatch):
    import importlib.metadata

    from verikit.hookspecs import hookimpl
    from verikit.plugins import PluginHost

    def plugin(tag):
        class Module:
            @staticmethod
            @hookimpl
            def register_estimators(register):
                register("clash", lambda: tag)

        return Module

    class Dist:
        def __init__(self, name):
            self.metadata, self.version = {"Name": name}, "1"

    class EntryPoint:
        def __init__(self, name):
            self.name, self.dist = name, Dist(name)

        def load(self):
            return plugin(self.name)

    winners = set()
    for order in (["zeta", "alpha"], ["alpha", "zeta"]):
        monkeypatch.setattr(
            importlib.metadata, "entry_points", lambda group, order=order: [EntryPoint(n) for n in order]
        )
        host = PluginHost()
        winners.add(host.registries["estimators"].entry("clash").plugin)
        assert [f.plugin for f in host.failures] == ["zeta"]
    assert winners == {"alpha"}
