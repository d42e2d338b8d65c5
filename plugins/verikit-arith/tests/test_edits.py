"""Contrastive edits: each pair is a correct prefix and the same prefix whose last step the exact labeller rejects."""

import random

import pytest

from verikit_arith.edits import EDIT_KINDS, contrastive_edits, probe_pairs
from verikit_arith.labeller import step_correctness
from verikit_arith.problems import load_split, make_problem


def test_every_pair_differs_in_its_last_step_only_and_the_labeller_agrees():
    problems = {p.question: p for p in load_split("arith-easy", "dev", limit=60)}
    pairs = probe_pairs("arith-easy", "dev", limit=60)
    assert {p.kind for p in pairs} == set(EDIT_KINDS)
    for pair in pairs:
        problem = problems[pair.question]
        assert pair.good[:-1] == pair.bad[:-1] and pair.good[-1] != pair.bad[-1]
        assert len(pair.good) == pair.position
        assert all(step_correctness(problem, list(pair.good)))
        assert step_correctness(problem, list(pair.bad))[-1] is False


def test_each_kind_is_the_mistake_it_names():
    problem = make_problem("7+3*4", "arith-easy", "p")
    edits = {p.kind: p.bad[-1] for p in contrastive_edits(problem, random.Random(0)) if p.position == 1}
    assert edits["result-1"] in ("Step 1: 3*4=11", "Step 1: 3*4=13")
    far = int(edits["result-far"].rsplit("=", 1)[1])
    assert abs(far - 12) >= 2
    assert edits["order"] == "Step 1: 7+3=10"
    assert edits["operation"] in ("Step 1: 3+4=7",)  # a true equation with another operator (3-4 is negative)
    operand = edits["operand"].removeprefix("Step 1: 3*")
    assert not operand.startswith("4=")


def test_an_edit_that_is_a_legal_move_is_not_used():
    # 3*7 stands in the expression too, so "3*7=21" at step 1 is a legal reordering, never an "operand" edit
    problem = make_problem("3*4+3*7", "arith-easy", "p")
    for seed in range(40):
        for pair in contrastive_edits(problem, random.Random(seed)):
            assert step_correctness(problem, list(pair.bad))[-1] is False


def test_probe_pairs_are_the_same_for_the_same_seed_and_unknown_kinds_are_refused():
    assert probe_pairs("arith-easy", "test", limit=5) == probe_pairs("arith-easy", "test", limit=5)
    assert probe_pairs("arith-easy", "test", limit=5, seed=1) != probe_pairs("arith-easy", "test", limit=5)
    with pytest.raises(ValueError, match="unknown edit kinds"):
        probe_pairs("arith-easy", "test", limit=1, kinds=("typo",))
