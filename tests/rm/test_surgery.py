"""Changes to a reward model's base before training (verikit.rm.surgery): depth and untied embeddings."""

import pytest


def _models():
    from transformers import (
        GPT2Config,
        GPT2LMHeadModel,
        LlamaConfig,
        LlamaForCausalLM,
        MistralConfig,
        MistralForCausalLM,
    )

    yield LlamaForCausalLM(
        LlamaConfig(
            vocab_size=40,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=4,
        )
    )
    yield MistralForCausalLM(
        MistralConfig(
            vocab_size=40,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
        )
    )
    yield GPT2LMHeadModel(GPT2Config(vocab_size=40, n_embd=32, n_layer=2, n_head=4, bos_token_id=0, eos_token_id=0))


@pytest.mark.parametrize("index", range(3))
def test_grown_model_computes_what_the_base_did_and_reloads_with_its_depth(tmp_path, index):
    import torch
    from transformers import AutoModelForCausalLM

    from verikit.rm.surgery import decoder_layers, grow_depth

    torch.manual_seed(index)
    model = list(_models())[index].eval()
    tokens = torch.randint(0, 40, (2, 7))
    before = model(tokens).logits
    assert grow_depth(model, 2) == 4 and len(decoder_layers(model)) == 4
    assert torch.equal(model(tokens).logits, before)
    model.save_pretrained(tmp_path)
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    assert reloaded.config.num_hidden_layers == 4
    assert torch.allclose(reloaded(tokens).logits, before, atol=1e-6)


def test_new_layers_learn_and_differ_from_the_copied_layer_after_a_step():
    import torch

    from verikit.rm.surgery import decoder_layers, grow_depth

    torch.manual_seed(0)
    model = next(_models())
    grow_depth(model, 1)
    tokens = torch.randint(0, 40, (4, 9))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model(tokens, labels=tokens).loss.backward()
    new = decoder_layers(model)[-1]
    assert new.self_attn.o_proj.weight.grad.abs().sum() > 0  # the zeroed projections get gradient
    optimizer.step()
    assert new.self_attn.o_proj.weight.abs().sum() > 0


def test_bad_requests_are_clear_errors():
    import torch

    from verikit.rm.surgery import grow_depth

    model = next(_models())
    with pytest.raises(ValueError, match=">= 0"):
        grow_depth(model, -1)
    assert grow_depth(model, 0) == 2

    class NoLayers(torch.nn.Module):
        config = None

    with pytest.raises(ValueError, match="decoder layers of NoLayers"):
        grow_depth(NoLayers(), 1)


def test_untied_output_layer_starts_equal_moves_alone_and_survives_saving(tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

    from verikit.rm.surgery import untie_embeddings

    torch.manual_seed(0)
    model = LlamaForCausalLM(
        LlamaConfig(
            vocab_size=40,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=4,
            num_key_value_heads=4,
            tie_word_embeddings=True,
        )
    ).eval()
    tokens = torch.randint(0, 40, (2, 6))
    before = model(tokens).logits
    assert untie_embeddings(model) and not untie_embeddings(model)  # the second call finds nothing shared
    assert torch.equal(model(tokens).logits, before)
    with torch.no_grad():
        model.lm_head.weight[3] += 1.0
    assert not torch.equal(model.lm_head.weight[3], model.get_input_embeddings().weight[3])
    model.save_pretrained(tmp_path)
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path)
    assert not reloaded.config.tie_word_embeddings
    assert torch.equal(reloaded.lm_head.weight, model.lm_head.weight)
    assert torch.equal(reloaded.get_input_embeddings().weight, model.get_input_embeddings().weight)
