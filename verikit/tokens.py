"""How a prompt and a response become token ids for training, the same way for SFT, RFT and PPO."""

from __future__ import annotations


def prompt_and_response_ids(tokenizer, prompt: str, response: str) -> tuple[list[int], list[int]]:
    """The prompt's ids as generation encoded them (the tokenizer's prefix such as BOS, then the prompt) and
    the response's ids as tokenised after the prompt, so merges at the boundary land as they do in the text."""
    prefix = tokenizer("")["input_ids"]
    prompt_ids = prefix + tokenizer(prompt, add_special_tokens=False)["input_ids"]
    full = tokenizer(prompt + response, add_special_tokens=False)["input_ids"]
    return prompt_ids, full[len(prompt_ids) - len(prefix) :]
