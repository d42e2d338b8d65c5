from transformers import AutoTokenizer

from verikit_arith.tokenizer import STEP_TAG, build_tokenizer


def test_round_trip_and_single_tokens_for_tag_plus_and_minus(tmp_path):
    tokenizer = build_tokenizer()
    text = "5+7-5+2=?\nStep 1: 5+7=12, so 12-5+2 ки\nThe answer is 9"
    ids = tokenizer.encode(text)
    assert ids[0] == tokenizer.bos_token_id
    assert tokenizer.decode(ids, skip_special_tokens=True) == text
    for token in (STEP_TAG, "+", "-"):
        assert len(tokenizer.encode(token, add_special_tokens=False)) == 1
    words = tokenizer.convert_ids_to_tokens(tokenizer.encode(text, add_special_tokens=False))
    assert words.count("Step ") == 1 and words.count("The answer is ") == 1 and "1" in words  # digits stay single
    tokenizer.save_pretrained(tmp_path)
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    assert reloaded.encode(text) == ids and reloaded.padding_side == "left"
