from hypothesis import given
from hypothesis import strategies as st

import verikit


def test_math_splitter_never_cuts_inside_display_math():
    text = "First.\n\n$$a\n\nb$$ then\n\nLast \\[x\n\n\\] end\n\n[asy]\ndraw(a);\n\nlabel(b);\n[/asy]"
    steps = verikit.step_splitter("math").split(text)
    assert steps == ["First.", "$$a\n\nb$$ then", "Last \\[x\n\n\\] end", "[asy]\ndraw(a);\n\nlabel(b);\n[/asy]"]


@given(
    st.lists(st.sampled_from(list("ab$\n\\[]") + ["$$", "\\[", "\\]", "[asy]", "[/asy]", "\n\n"]), max_size=40).map(
        "".join
    )
)
def test_math_and_gsm8k_splitters_round_trip_every_string(text):
    for name in ("math", "gsm8k"):
        splitter = verikit.step_splitter(name)
        assert splitter.join(splitter.split(text)) == text


def test_gsm8k_splitter_on_a_real_solution(shared_data_dir):
    problem = verikit.load_dataset("gsm8k", split="test", data_dir=shared_data_dir, limit=1)[0]
    steps = verikit.step_splitter("gsm8k").split(problem.gold_solution)
    assert steps[-1] == "#### 18" and len(steps) == 3
