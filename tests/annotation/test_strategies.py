"""Rollout strategies replayed on fixed verdict pools: what they label and how many rollouts they spend."""

import random

import pytest

from verikit.annotation.strategies import run_with_pool


def pool_from(reachable, n=16, p_hit=1.0, seed=0):
    """Per-step verdicts: a step that can reach the answer gets hits with probability p_hit, others never."""
    rng = random.Random(seed)
    return [[ok and rng.random() < p_hit for _ in range(n)] for ok in reachable]


def test_naive_labels_every_step_from_its_own_rollouts():
    pool = [[True, False], [False, False], [False, True]]
    labels, used = run_with_pool("naive", 3, 2, pool)
    assert [label.hard for label in labels] == [True, False, True]
    assert [label.soft for label in labels] == [0.5, 0.0, 0.5]
    assert used == 6


def test_the_last_step_of_a_finished_solution_is_its_own_verdict():
    pool = [[True] * 4, [True] * 4, []]
    labels, used = run_with_pool("naive", 3, 4, pool, final_verdict=False)
    assert [label.hard for label in labels] == [True, True, False] and used == 8
    labels, used = run_with_pool("early-exit", 3, 4, pool, final_verdict=True)
    assert [label.hard for label in labels] == [True, True, True] and used == 0


def test_early_exit_stops_at_the_first_correct_rollout_and_witnesses_earlier_steps():
    pool = [[True] * 8, [False, False, False, True, True, True, True, True], [False] * 8, [False] * 8]
    labels, used = run_with_pool("early-exit", 4, 8, pool)
    assert [label.hard for label in labels] == [True, True, False, False]
    assert labels[0].n_rollouts == 0  # witnessed by step 1's correct rollout
    assert labels[1].n_rollouts == 4 and labels[1].n_correct == 1
    assert used == 8 + 8 + 4


def test_early_exit_finds_a_hit_that_naive_at_the_same_n_misses_earlier():
    # Step 0's own first two rollouts fail (a false negative for naive at N=2); step 1 witnesses it.
    pool = [[False, False, True, True], [True, True, True, True], [False] * 4]
    naive, _ = run_with_pool("naive", 3, 2, pool)
    early, _ = run_with_pool("early-exit", 3, 2, pool)
    assert [label.hard for label in naive] == [False, True, False]
    assert [label.hard for label in early] == [True, True, False]


@pytest.mark.parametrize("first_bad", [0, 1, 5, 9, 10])
def test_binary_search_finds_the_first_bad_step_with_log_many_probes(first_bad):
    reachable = [i < first_bad for i in range(10)]
    labels, used = run_with_pool("binary-search", 10, 8, pool_from(reachable))
    assert [label.hard for label in labels] == reachable
    probed = sum(label.n_rollouts > 0 for label in labels)
    assert probed <= 4  # ceil(log2(10 + 1))
    assert used <= 4 * 8


def test_binary_search_spends_nothing_on_a_correct_solution():
    labels, used = run_with_pool("binary-search", 5, 8, [[True] * 8] * 4 + [[]], final_verdict=True)
    assert all(label.hard for label in labels) and used == 0


def test_a_pool_too_small_for_the_strategy_is_an_error():
    with pytest.raises(ValueError, match="pool for step 0"):
        run_with_pool("naive", 1, 4, [[True, False]])
