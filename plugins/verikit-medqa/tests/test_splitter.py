"""Prose reasoning splits into sentences; the split round-trips every string and keeps the text the model wrote."""

from hypothesis import given, settings
from hypothesis import strategies as st

import verikit

splitter = verikit.step_splitter("clinical-sentences")


def test_sentences_lines_abbreviations_and_decimals():
    text = "Fever and cough for 3 days. Dr. Lee gave 2.5 mg, e.g. a low dose! Why?\nThe answer is (B)."
    assert splitter.split(text) == [
        "Fever and cough for 3 days. ",
        "Dr. Lee gave 2.5 mg, e.g. a low dose! ",
        "Why?\n",
        "The answer is (B).",
    ]


def test_prefixes_for_rollouts_are_the_text_the_model_wrote():
    steps = splitter.split("One. Two. Three.")
    assert splitter.join(steps[:2] + [""]) == "One. Two. "


def test_whitespace_only_pieces_stay_attached_so_no_step_is_empty():
    assert splitter.split("\n\nA.  \n\n") == ["\n\nA.  \n\n"]
    assert splitter.split("") == []
    assert splitter.split("  ") == ["  "]  # kept, so that the text round-trips


prose = st.lists(
    st.sampled_from(["word", " ", ".", "!", "?", "\n", "e.g.", "Dr.", "2.5", ")", '"', "ки", "é"]), max_size=40
).map("".join)


@settings(max_examples=400, deadline=None)
@given(prose)
def test_join_of_split_is_the_text_and_split_of_join_is_the_steps(text):
    steps = splitter.split(text)
    assert splitter.join(steps) == text
    assert all(step.strip() for step in steps) or not text.strip()  # only all-whitespace text has a blank step
    assert splitter.split(splitter.join(steps)) == steps
