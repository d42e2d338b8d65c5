import json

import pytest

from verikit.annotation.storage import AnnotationStore, load_annotations, load_records
from verikit.errors import DataError

CONFIG = {"dataset": "x", "n": 2}


@pytest.fixture
def rec(annotation_record):
    return lambda i, chunk=0: annotation_record(sample_index=i, solution=f"solution {i}", chunk=chunk)


def test_append_is_exactly_once(tmp_path, rec):
    store = AnnotationStore(tmp_path, CONFIG)
    assert store.append(0, [rec(0), rec(1)]) == 2
    assert store.append(0, [rec(1), rec(2)]) == 1
    assert [r["sample_index"] for r in AnnotationStore(tmp_path, CONFIG).records()] == [0, 1, 2]


def test_a_torn_last_line_is_cut_off_and_reported(tmp_path, rec):
    store = AnnotationStore(tmp_path, CONFIG)
    store.append(0, [rec(0), rec(1)])
    shard = store.shard_path(0)
    shard.write_bytes(shard.read_bytes() + b'{"key": "abc", "val')
    reopened = AnnotationStore(tmp_path, CONFIG)
    assert len(reopened.repairs) == 1 and "shard-00000.jsonl:3: torn last line" in reopened.repairs[0]
    assert len(reopened.keys(0)) == 2
    assert shard.read_bytes().endswith(b"}\n")


def test_a_corrupt_line_in_the_middle_is_an_error_naming_file_and_line(tmp_path, rec):
    store = AnnotationStore(tmp_path, CONFIG)
    store.append(0, [rec(0)])
    shard = store.shard_path(0)
    shard.write_text("not json\n" + shard.read_text())
    with pytest.raises(DataError, match=r"shard-00000.jsonl:1: corrupt record"):
        AnnotationStore(tmp_path, CONFIG)


def test_a_different_config_is_refused(tmp_path, rec):
    AnnotationStore(tmp_path, CONFIG)
    with pytest.raises(DataError, match=f"differs in n: {CONFIG['n']!r} here, 4 now"):
        AnnotationStore(tmp_path, {**CONFIG, "n": 4})
    with pytest.raises(DataError, match="differs in extra: absent here, None now"):
        AnnotationStore(tmp_path, {**CONFIG, "extra": None})


def test_load_annotations_gives_a_datasets_dataset(tmp_path, rec):
    store = AnnotationStore(tmp_path, CONFIG)
    store.append(0, [rec(0)])
    store.append(1, [rec(5, chunk=1)])
    dataset = load_annotations(tmp_path)
    assert dataset.num_rows == 2 and dataset["sample_index"] == [0, 5]
    with pytest.raises(DataError, match="not an annotation folder"):
        load_records(tmp_path / "nowhere")
    (tmp_path / "shard-00002.jsonl").write_text(json.dumps(rec(0)) + "\n")
    with pytest.raises(DataError, match="duplicate record key"):
        load_records(tmp_path)
