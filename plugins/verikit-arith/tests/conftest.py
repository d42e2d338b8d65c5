import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from verikit_arith.tokenizer import build_tokenizer


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """A tiny randomly initialised Llama with the arith tokenizer, saved with save_pretrained."""
    torch.manual_seed(0)
    tokenizer = build_tokenizer()
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=256,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    model = LlamaForCausalLM(config)
    with torch.no_grad():  # make newlines and the answer phrase's letters likely, so outputs have steps
        for token in ("\n", "T", "1", "+"):
            model.lm_head.weight[tokenizer.convert_tokens_to_ids(token)] += 0.5
    path = tmp_path_factory.mktemp("tiny-llama")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
