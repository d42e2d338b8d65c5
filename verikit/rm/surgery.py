"""Changes to a reward model's base before training, each leaving its outputs unchanged at the start.

:func:`untie_embeddings` — in a model whose output layer shares the input embeddings, training the ``+``
and ``-`` logits at the tags also moves the *input* embeddings of ``+`` and ``-``, which in arithmetic are
operators the model reads inside every step. Untying gives the head its own copy.

:func:`grow_depth` — a tag-head PRM judges step k at the tag *after* the step, but a causal LM's knowledge of whether a
token was likely lives in the *final* layer of the position before it — which no later position can read,
since layer l attends only to layer l−1's states. A base fine-tuned as is must re-derive the step in the
layers it has left. Appending decoder layers lets the tag attend to every earlier position's final-layer
state. Each new layer is a copy of the last one with its residual output projections zeroed, so the grown
model computes exactly what the base did until training moves them.
"""

from __future__ import annotations

import copy


def untie_embeddings(model) -> bool:
    """Give ``model`` an output layer of its own (a copy of the shared embeddings); False if it had one."""
    output, embeddings = model.get_output_embeddings(), model.get_input_embeddings()
    if output is None or output.weight.data_ptr() != embeddings.weight.data_ptr():
        return False
    import torch

    output.weight = torch.nn.Parameter(embeddings.weight.detach().clone())
    model.config.tie_word_embeddings = False
    if hasattr(model.config, "get_text_config"):
        model.config.get_text_config().tie_word_embeddings = False
    return True


#: names of the projections that write a decoder layer's attention / MLP output back to the residual stream
OUTPUT_PROJECTIONS = ("o_proj", "down_proj", "c_proj", "out_proj", "dense_4h_to_h", "fc2", "w2")


def decoder_layers(model):
    """The ``ModuleList`` of decoder layers of a transformers causal LM (Llama/Mistral/Qwen/GPT-2 layouts)."""
    for path in ("model.layers", "transformer.h", "gpt_neox.layers", "model.decoder.layers"):
        module = model
        for name in path.split("."):
            module = getattr(module, name, None)
            if module is None:
                break
        if module is not None:
            return module
    raise ValueError(f"cannot find the decoder layers of {type(model).__name__} to grow its depth")


def grow_depth(model, extra: int) -> int:
    """Append ``extra`` identity-initialised decoder layers to ``model`` (in place); returns the new depth."""
    if extra < 0:
        raise ValueError(f"extra layers must be >= 0, got {extra}")
    if extra == 0:
        return model.config.num_hidden_layers
    layers = decoder_layers(model)
    for _ in range(extra):
        index = len(layers)
        layer = copy.deepcopy(layers[-1])
        zeroed = 0
        for name, module in layer.named_modules():
            if hasattr(module, "layer_idx"):
                module.layer_idx = index  # the KV cache is indexed by layer
            if name.rsplit(".", 1)[-1] in OUTPUT_PROJECTIONS:
                module.weight.data.zero_()
                if getattr(module, "bias", None) is not None:
                    module.bias.data.zero_()
                zeroed += 1
        if zeroed < 2:
            raise ValueError(
                f"cannot find the attention and MLP output projections of {type(layer).__name__} "
                f"(looked for {', '.join(OUTPUT_PROJECTIONS)})"
            )
        layers.append(layer)
    config = model.config
    config.num_hidden_layers = len(layers)
    if getattr(config, "layer_types", None):  # per-layer attention kinds (sliding/full) in recent transformers
        config.layer_types = list(config.layer_types) + [config.layer_types[-1]] * extra
    return len(layers)
