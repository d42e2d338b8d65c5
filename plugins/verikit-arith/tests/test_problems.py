import pytest

import verikit
from verikit.errors import DataError, UnknownNameError
from verikit_arith.expressions import evaluate, parse
from verikit_arith.presets import get_preset
from verikit_arith.problems import load_split, make_problem


def test_splits_are_fixed_disjoint_and_large_enough():
    for preset in ("arith-easy", "arith-hard"):
        test = load_split(preset, "test")
        dev = load_split(preset, "dev")
        assert len(test) >= 500 and len(dev) >= 500
        assert [p.question for p in test] == [p.question for p in load_split(preset, "test")]
        train = {p.question for p in load_split(preset, "train", limit=5000)}
        assert not train & {p.question for p in test + dev}
        assert len({p.question for p in test}) == len(test)


def test_hard_is_longer_has_larger_numbers_and_uses_division():
    easy, hard = load_split("arith-easy", "test"), load_split("arith-hard", "test")
    assert sum(len(p.gold_steps) for p in hard) > 1.25 * sum(len(p.gold_steps) for p in easy)
    assert max(int(p.gold_answer) for p in hard) > max(int(p.gold_answer) for p in easy)
    assert any("/" in p.question for p in hard) and not any("/" in p.question for p in easy)


def test_every_problem_has_a_whole_gold_answer_and_reference_steps():
    for problem in load_split("arith-hard", "test"):
        assert evaluate(parse(problem.metadata["expression"])) == int(problem.gold_answer)
        assert problem.gold_steps[-1] == f"The answer is {problem.gold_answer}"
        assert problem.gold_solution == "\n".join(problem.gold_steps)


def test_the_problems_are_registered_datasets_and_split_by_the_line_splitter():
    problems = verikit.load_dataset("arith-easy", split="test", limit=3)
    assert len(problems) == 3 and problems[0].domain == "arith"
    domain = verikit.domain("arith")
    splitter = verikit.step_splitter(domain.step_splitter)
    assert splitter.split(problems[0].gold_solution) == problems[0].gold_steps
    assert verikit.step_splitter("shepherd").join(problems[0].gold_steps).count(" ки") == len(problems[0].gold_steps)


def test_the_domain_prompts_exactly_as_the_generator_was_trained_and_evaluated():
    from verikit_arith.problems import prompt_text
    from verikit_arith.training import GeneratorConfig, training_texts

    problem = load_split("arith-easy", "test", limit=1)[0]
    assert verikit.domain("arith").prompt(problem) == prompt_text(problem) == problem.question + "\n"
    prompt, _ = training_texts(GeneratorConfig(), 1)[0]
    assert prompt.endswith("=?\n")


def test_malformed_inputs_give_clear_errors():
    with pytest.raises(DataError, match="empty problem"):
        make_problem("  ", "arith-easy", "x")
    with pytest.raises(DataError, match="not an arithmetic expression"):
        make_problem("7+", "arith-easy", "x")
    with pytest.raises(DataError, match="no whole-number answer"):
        make_problem("7/2", "arith-easy", "x")
    with pytest.raises(UnknownNameError, match="did you mean 'arith-easy'"):
        get_preset("arith-eazy")
    with pytest.raises(DataError, match="no split 'validation'"):
        load_split("arith-easy", "validation")


def test_the_checker_reads_only_the_stated_answer():
    checker = verikit.answer_checker("arith")
    assert checker.is_correct("Step 1: 3+4=7\nThe answer is 7", "7")
    assert not checker.is_correct("Step 1: 3+4=7", "7")  # no answer line: wrong
    assert checker.extract("The answer is 5\nThe answer is -3") == "-3"
    assert not checker.equivalent("7", "seven")
