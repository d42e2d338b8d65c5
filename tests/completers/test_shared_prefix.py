"""Shared-prefix attention against plain attention over each row's whole sequence, layer by layer."""

import types

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")


def _reference(query, prompt_keys, prompt_values, prompt_mask, own_keys, own_values, n):
    """Each row's attention over its prompt (padding masked) and its own tokens, row by row."""
    rows, heads, _, dim = query.shape
    group = heads // prompt_keys.shape[1]
    outputs = []
    for row in range(rows):
        prompt = row // n
        keep = prompt_mask[prompt].bool()
        keys = torch.cat([prompt_keys[prompt][:, keep], own_keys[row]], dim=1).repeat_interleave(group, dim=0)
        values = torch.cat([prompt_values[prompt][:, keep], own_values[row]], dim=1).repeat_interleave(group, dim=0)
        outputs.append(torch.nn.functional.scaled_dot_product_attention(query[row], keys, values))  # (heads, 1, dim)
    return torch.stack(outputs).transpose(1, 2)  # (rows, 1, heads, dim)


@pytest.mark.parametrize("separate_after,separate_from", [(12, 4), (10**6, None)])
@pytest.mark.parametrize("group", [1, 2])
def test_a_group_of_rows_attends_to_its_prompt_and_each_to_its_own_tokens(
    group, separate_after, separate_from, monkeypatch
):
    """Interleaved throughout, or kept apart from step 4 on (once a query would read 12 of its siblings' tokens)."""
    from verikit.completers import shared_prefix

    torch.manual_seed(0)
    monkeypatch.setattr(shared_prefix, "SEPARATE_AFTER", separate_after)
    prompts, n, kv_heads, dim, prompt_length, steps = 3, 4, 2, 8, 7, 40  # 40 steps: the buffers grow past 32
    heads, rows = kv_heads * group, prompts * n
    prompt_keys, prompt_values = (
        torch.randn(prompts, kv_heads, prompt_length, dim),
        torch.randn(prompts, kv_heads, prompt_length, dim),
    )
    prompt_mask = torch.ones(prompts, prompt_length, dtype=torch.long)
    prompt_mask[1, :3] = 0  # left padding
    layer = shared_prefix.layer_class()(prompt_keys, prompt_values, prompt_mask, n, capacity=steps)
    layer.layer_idx = 0
    shared_prefix._active.cache = types.SimpleNamespace(layers=[layer])
    module = types.SimpleNamespace(layer_idx=0)
    own_keys = torch.empty(rows, kv_heads, 0, dim)
    own_values = torch.empty(rows, kv_heads, 0, dim)
    kept = torch.arange(rows)
    try:
        for step in range(steps):
            if step == 20:  # drop prompt 1's group, as the decoding loop does once its rows have finished
                keep = torch.tensor([r for r in range(len(kept)) if r // n != 1])
                layer.batch_select_indices(keep)
                kept, own_keys, own_values = kept[keep], own_keys[keep], own_values[keep]
                prompt_keys, prompt_values, prompt_mask = (
                    prompt_keys[[0, 2]],
                    prompt_values[[0, 2]],
                    prompt_mask[[0, 2]],
                )
            count = len(kept)
            new_keys, new_values = torch.randn(count, kv_heads, 1, dim), torch.randn(count, kv_heads, 1, dim)
            own_keys, own_values = torch.cat([own_keys, new_keys], 2), torch.cat([own_values, new_values], 2)
            keys, values = layer.update(new_keys, new_values)
            assert layer.separate == (separate_from is not None and step >= separate_from)
            query = torch.randn(count, heads, 1, dim)
            output, _ = shared_prefix.shared_prefix_attention(module, query, keys, values, None)
            expected = _reference(query, prompt_keys, prompt_values, prompt_mask, own_keys, own_values, n)
            assert output.shape == (count, 1, heads, dim)
            torch.testing.assert_close(output, expected, rtol=1e-5, atol=1e-5)
        assert layer.get_seq_length() == prompt_length + steps
        with pytest.raises(RuntimeError, match="KV buffer overflow"):
            layer.update(new_keys, new_values)
    finally:
        shared_prefix._active.cache = None


def test_twins_write_their_model_rows_keys_and_read_as_the_rows_they_stand_for():
    """Six cache rows (two prompts × 3) computed by three model rows: rows 0-2 one sequence, row 3 alone, rows 4-5
    one."""
    from verikit.completers import shared_prefix

    torch.manual_seed(1)
    prompts, n, kv_heads, dim, prompt_length = 2, 3, 2, 8, 5
    prompt_keys, prompt_values = (
        torch.randn(prompts, kv_heads, prompt_length, dim),
        torch.randn(prompts, kv_heads, prompt_length, dim),
    )
    prompt_mask = torch.ones(prompts, prompt_length, dtype=torch.long)
    layer = shared_prefix.layer_class()(prompt_keys, prompt_values, prompt_mask, n, capacity=8)
    twins = shared_prefix.Twins.of_groups(prompts * n, n)
    assert twins.source.tolist() == [0, 0, 0, 1, 1, 1] and twins.firsts.tolist() == [0, 3]
    # the next tokens: rows 0-2 draw 5, row 3 draws 7, rows 4-5 draw 9; nothing has finished
    twins = twins.after(torch.tensor([5, 5, 5, 7, 9, 9]), torch.zeros(6, dtype=torch.bool), vocabulary=10)
    assert twins.firsts.tolist() == [0, 3, 4] and twins.source.tolist() == [0, 0, 0, 1, 2, 2]
    shared_prefix._active.cache = types.SimpleNamespace(layers=[layer], twins=twins)
    module = types.SimpleNamespace(layer_idx=0)
    try:
        new_keys, new_values = torch.randn(3, kv_heads, 1, dim), torch.randn(3, kv_heads, 1, dim)
        keys, values = layer.update(new_keys, new_values)
        query = torch.randn(3, kv_heads, 1, dim)
        output, _ = shared_prefix.shared_prefix_attention(module, query, keys, values, None)
        rows = twins.source  # what six rows, each computed by the model, would have held and asked
        expected = _reference(query[rows], prompt_keys, prompt_values, prompt_mask, new_keys[rows], new_values[rows], n)
        torch.testing.assert_close(output, expected[twins.firsts], rtol=1e-5, atol=1e-5)
    finally:
        shared_prefix._active.cache = None
    # row 2 parts from rows 0-1 (token 6), row 3 finishes: three model rows; a finished row stands for none of them
    parted = twins.after(
        torch.tensor([4, 4, 6, 1, 2, 2]), torch.tensor([False, False, False, True, False, False]), vocabulary=10
    )
    assert parted.firsts.tolist() == [0, 2, 4] and parted.source.tolist() == [0, 0, 1, 0, 2, 2]
