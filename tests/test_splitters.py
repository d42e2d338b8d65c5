import json

from hypothesis import given
from hypothesis import strategies as st

import verikit

pieces = st.lists(
    st.sampled_from(["a", "b", " ", "\n", "\n\n", "Step 1:", "Step 2:", "ки", " ки", "x=1"]), max_size=30
).map("".join)
steps_without_newlines = st.lists(
    st.text(alphabet=st.sampled_from(list("ab =+1")), min_size=1, max_size=10), min_size=1, max_size=8
)


@given(pieces)
def test_lines_and_paragraphs_round_trip_every_string(text):
    for name in ("lines", "paragraphs"):
        splitter = verikit.step_splitter(name)
        assert splitter.join(splitter.split(text)) == text


@given(steps_without_newlines)
def test_every_core_splitter_round_trips_its_own_joins(steps):
    prefixed = [f"Step {i}: {step}" for i, step in enumerate(steps, start=1)]
    for name, canonical in (("lines", steps), ("shepherd", steps), ("step-prefix", prefixed)):
        splitter, steps = verikit.step_splitter(name), canonical
        assert splitter.split(splitter.join(steps)) == steps
        assert splitter.join(splitter.split(splitter.join(steps))) == splitter.join(steps)


def test_step_prefix_splitter_keeps_a_preamble_and_multi_line_steps():
    text = "Let us think.\nStep 1: 3*4=12\nso far so good\nStep 2: 7+12=19"
    assert verikit.step_splitter("step-prefix").split(text) == [
        "Let us think.",
        "Step 1: 3*4=12\nso far so good",
        "Step 2: 7+12=19",
    ]


def test_shepherd_splitter_round_trips_the_released_rows_byte_for_byte(shared_data_dir):
    splitter = verikit.step_splitter("shepherd")
    path = shared_data_dir / "math_shepherd_sample" / "samples_math-shepherd.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert rows
    for row in rows:
        question, _, solution = row["input"].partition(" Step 1:")
        solution = "Step 1:" + solution
        steps = splitter.split(solution)
        assert all("ки" not in step for step in steps)
        assert steps[0].startswith("Step 1:") and steps[-1].startswith(f"Step {len(steps)}:")
        assert splitter.join(steps) == solution


def test_empty_text_has_no_steps():
    for name in ("lines", "paragraphs", "step-prefix", "shepherd"):
        assert verikit.step_splitter(name).split("") == []
