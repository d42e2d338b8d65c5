"""Reward-model training reads parquet: verikit's own export and TRL's stepwise layout, as it reads JSONL."""

import pytest

from verikit.annotation.exports import export
from verikit.errors import DataError
from verikit.rm.data import load_examples


def test_the_parquet_export_reads_back_as_the_same_examples(tmp_path, annotation_record):
    records = [
        annotation_record(problem_id=f"p{i}", steps=["a", "b"], hard_labels=[True, i % 2 == 0]) for i in range(4)
    ]
    export(records, "parquet", tmp_path / "ann.parquet")
    examples = load_examples(tmp_path / "ann.parquet", "prm", "hard")
    assert [e.targets for e in examples.examples] == [[1.0, 1.0], [1.0, 0.0], [1.0, 1.0], [1.0, 0.0]]
    assert examples.examples[0].steps == ["a", "b"]


def test_trl_rows_in_parquet_read_as_in_jsonl(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [
        {"prompt": "2+2?", "completions": ["2+2=4", "The answer is 4"], "labels": [True, True]},
        {"prompt": "3+3?", "completions": ["3+3=7", "The answer is 7"], "labels": [False, False]},
    ]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "trl.parquet")
    examples = load_examples(tmp_path / "trl.parquet", "prm", "hard")
    assert [e.targets for e in examples.examples] == [[1.0, 1.0], [0.0, 0.0]]


def test_a_file_that_is_not_parquet_is_named(tmp_path):
    (tmp_path / "bad.parquet").write_bytes(b"\x80not parquet")
    with pytest.raises(DataError, match=r"bad.parquet: not a readable parquet file"):
        load_examples(tmp_path / "bad.parquet")


def test_a_token_classifier_is_refused_by_the_tag_scorer_in_one_line(tiny_lm, tmp_path):
    from transformers import AutoConfig, AutoModelForTokenClassification, AutoTokenizer

    import verikit

    config = AutoConfig.from_pretrained(tiny_lm, num_labels=2)
    AutoModelForTokenClassification.from_config(config).save_pretrained(tmp_path / "trl-prm")
    AutoTokenizer.from_pretrained(tiny_lm).save_pretrained(tmp_path / "trl-prm")
    with pytest.raises(DataError, match=r"ForTokenClassification, not a causal LM with an lm_head"):
        verikit.scorer(tmp_path / "trl-prm", released_convention=True)
