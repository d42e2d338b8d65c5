"""The PRM loss: soft targets used as probabilities, every non-tag position ignored."""

import math

import pytest
import torch

from verikit.rm.data import IGNORE, StepExample, collate, examples_from_records, tokenize_example
from verikit.rm.training import tag_loss

GOOD, BAD = 3, 4


def _logits(length=6, vocab=8, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(1, length, vocab, generator=generator, requires_grad=True)


def test_soft_targets_reach_the_loss_unrounded():
    logits = _logits()
    targets = torch.full((1, 6), IGNORE)
    targets[0, 2] = 0.3
    loss = tag_loss(logits, targets, GOOD, BAD)
    pair = logits[0, 2, [GOOD, BAD]].log_softmax(-1)
    expected = -(0.3 * pair[0] + 0.7 * pair[1])
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    for rounded in (0.0, 1.0):
        targets[0, 2] = rounded
        assert tag_loss(logits, targets, GOOD, BAD).item() != pytest.approx(loss.item(), rel=1e-3)


def test_soft_labels_survive_tokenizing_and_collating(mistral_prm):
    from transformers import AutoTokenizer

    from verikit.rm.convention import resolve_convention

    tokenizer = AutoTokenizer.from_pretrained(mistral_prm)
    convention = resolve_convention(tokenizer)
    record = {
        "key": "k",
        "question": "2+3*2-1=?",
        "steps": ["Step 1: 2+3=5", "The answer is 9"],
        "error": None,
        "hard_labels": [True, False],
        "soft_labels": [0.375, 0.0],
        "final_correct": False,
    }
    example = examples_from_records([record], "prm", "soft").examples[0]
    row = tokenize_example(example, tokenizer, convention, max_length=64, lm_loss=False)
    batch = collate(tokenizer.pad_token_id)([row])
    assert batch["tag_targets"].dtype == torch.float32
    values = batch["tag_targets"][batch["tag_targets"] != IGNORE].tolist()
    assert values == [0.375, 0.0]
    positions = (batch["tag_targets"][0] != IGNORE).nonzero().flatten().tolist()
    assert [batch["input_ids"][0, p].item() for p in positions] == [convention.tag_id] * 2


def test_the_loss_ignores_every_non_tag_position():
    logits = _logits(length=7)
    targets = torch.full((1, 7), IGNORE)
    targets[0, 1], targets[0, 5] = 1.0, 0.25
    loss = tag_loss(logits, targets, GOOD, BAD)
    loss.backward()
    grad = logits.grad[0]
    for position in range(7):
        touched = bool(grad[position].abs().sum() > 0)
        assert touched == (position in (1, 5)), position
    assert set(grad[1].nonzero().flatten().tolist()) == {GOOD, BAD}  # only the two candidate logits
    # and changing any other position's logits leaves the loss unchanged
    changed = logits.detach().clone()
    changed[0, [0, 2, 3, 4, 6]] += 5.0
    assert tag_loss(changed, targets, GOOD, BAD).item() == pytest.approx(loss.item(), rel=1e-7)


def test_a_batch_without_tags_adds_nothing_and_keeps_the_graph():
    logits = _logits()
    loss = tag_loss(logits, torch.full((1, 6), IGNORE), GOOD, BAD)
    assert loss.item() == 0.0 and loss.requires_grad


def test_orm_examples_train_only_the_last_tag_and_errors_are_counted():
    records = [
        {
            "key": "a",
            "question": "q",
            "steps": ["s1", "s2", "s3"],
            "hard_labels": [True, False, False],
            "soft_labels": [0.5, 0.0, 0.0],
            "final_correct": False,
            "error": None,
        },
        {"key": "b", "question": "q", "steps": [], "final_correct": None, "error": "solution has no steps"},
    ]
    orm = examples_from_records(records, "orm")
    assert [e.targets for e in orm.examples] == [[None, None, 0.0]]
    assert orm.skipped == {"solution has no steps": 1}
    prm = examples_from_records(records, "prm", "soft")
    assert prm.examples[0].targets == [0.5, 0.0, 0.0]
    assert math.isclose(examples_from_records(records, "prm", "hard").examples[0].targets[0], 1.0)


def test_a_step_containing_the_tag_is_an_error_naming_the_record(mistral_prm):
    from transformers import AutoTokenizer

    from verikit.errors import DataError
    from verikit.rm.convention import resolve_convention

    tokenizer = AutoTokenizer.from_pretrained(mistral_prm)
    example = StepExample("q", ["Step 1: ки", "Step 2:"], [1.0, 0.0], source="annotation abc")
    with pytest.raises(DataError, match="annotation abc"):
        tokenize_example(example, tokenizer, resolve_convention(tokenizer), 64, lm_loss=False)
