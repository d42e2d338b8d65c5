"""Rejection-sampling fine-tuning (RFT), the paper's Table 2 baseline: sample K solutions per training
problem, keep the distinct ones the checker accepts, fine-tune the policy on them (LM loss on the
solution tokens only) with ``transformers.Trainer``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def rejection_samples(completer, problems: Sequence, domain, checker, k: int = 4, temperature: float = 1.0,
                      max_new_tokens: int = 160, seed: int = 0) -> list[tuple[str, str]]:
    """``(prompt, solution)`` pairs: the distinct correct samples of each problem."""
    prompts = [domain.prompt(p) for p in problems]
    samples = completer.complete(prompts, n=k, temperature=temperature, max_new_tokens=max_new_tokens, seed=seed)
    pairs = []
    for problem, prompt, texts in zip(problems, prompts, samples):
        for text in dict.fromkeys(t.rstrip() for t in texts):
            if text and checker.is_correct(text, problem.gold_answer):
                pairs.append((prompt, text))
    return pairs


class _PairDataset:
    """(ids, labels) per pair, tokenised as PPO tokenises its rollouts; labels -100 on the prompt."""

    def __init__(self, pairs, tokenizer, max_length: int):
        from verikit.rl.tokens import prompt_and_response_ids

        self.rows = []
        for prompt, solution in pairs:
            prompt_ids, solution_ids = prompt_and_response_ids(tokenizer, prompt, solution)
            solution_ids = solution_ids + [tokenizer.eos_token_id]
            self.rows.append(((prompt_ids + solution_ids)[:max_length], ([-100] * len(prompt_ids) + solution_ids)[:max_length]))

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, index):
        return self.rows[index]


def supervised_finetune(model: str, pairs: Sequence[tuple[str, str]], out: str | Path, epochs: float = 1.0,
                        learning_rate: float = 1e-4, batch_size: int = 32, max_length: int = 512, seed: int = 0,
                        progress: bool = True) -> Path:
    """Fine-tune ``model`` on the pairs (loss on solution tokens, EOS included); saves to ``out``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments

    if not pairs:
        raise ValueError("no correct samples to fine-tune on")
    from verikit.rm.data import padding_id, right_padded

    tokenizer = AutoTokenizer.from_pretrained(model)

    def collate(rows):
        ids, mask = right_padded([ids for ids, _ in rows], padding_id(tokenizer))
        return {"input_ids": ids, "attention_mask": mask, "labels": right_padded([labels for _, labels in rows], -100)[0]}

    args = TrainingArguments(output_dir=str(Path(out) / "checkpoints"), num_train_epochs=epochs, learning_rate=learning_rate,
                             per_device_train_batch_size=batch_size, lr_scheduler_type="cosine", save_strategy="no",
                             report_to=[], seed=seed, logging_steps=50, disable_tqdm=not progress,
                             use_cpu=not torch.cuda.is_available(),
                             bf16=torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    # fp32 master weights whatever the checkpoint's dtype (bf16 under autocast on a GPU)
    trainer = Trainer(model=AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32), args=args,
                      train_dataset=_PairDataset(pairs, tokenizer, max_length), data_collator=collate)
    trainer.train()
    trainer.save_model(str(out))
    tokenizer.save_pretrained(str(out))
    return Path(out)
