"""Step-level PPO pieces on a tiny model: reward placement, KL, GAE, one PPO step, GRPO process advantages."""

import pytest
import torch

import verikit
from verikit.rl.core import gae, kl_per_token
from verikit.rl.grpo import process_advantages
from verikit.rl.rewards import place_rewards, step_end_tokens
from verikit.tiny_models import build_tiny_causal_lm

PROMPT = "What is 2 + 3 * 4?\n"
RESPONSE = "Step 1: 3 * 4 = 12\nStep 2: 2 + 12 = 14\nThe answer is 14"


@pytest.fixture(autouse=True)
def _sums_domain(toy):
    """Every test here runs on the tests' own ``sums`` domain."""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    texts = [PROMPT + RESPONSE, "What is 7 - 2?\nStep 1: 7 - 2 = 5\nThe answer is 5"] * 10
    return str(build_tiny_causal_lm(tmp_path_factory.mktemp("rl") / "tiny", texts, vocab_size=320))


def test_step_rewards_land_on_exactly_the_last_token_of_each_step(tiny):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny)
    splitter = verikit.step_splitter("lines")
    steps = splitter.split(RESPONSE)
    positions = step_end_tokens(tokenizer, PROMPT, RESPONSE, steps, splitter)
    ids = tokenizer(PROMPT + RESPONSE, add_special_tokens=False)["input_ids"]
    response_ids = ids[len(tokenizer(PROMPT, add_special_tokens=False)["input_ids"]) :]
    assert len(positions) == 3 and positions[-1] == len(response_ids) - 1
    for k, position in enumerate(positions):  # the text up to and including that token ends exactly with step k
        decoded = tokenizer.decode(response_ids[: position + 1])
        assert decoded.rstrip("\n") == "\n".join(steps[: k + 1])
    rewards = place_rewards(len(response_ids), positions, [0.9, 0.2, 0.7])
    assert [i for i, r in enumerate(rewards) if r] == positions and sum(rewards) == pytest.approx(1.8)


def test_a_response_opening_with_the_separator_puts_its_empty_first_steps_reward_on_its_first_token(tiny):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny)
    splitter = verikit.step_splitter("lines")
    response = "\n" + RESPONSE
    steps = splitter.split(response)
    assert steps[0] == ""
    positions = step_end_tokens(tokenizer, PROMPT, response, steps, splitter)
    assert positions[0] == 0 and positions[1:] == sorted(positions[1:]) and positions[1] > 0


def test_gae_matches_a_hand_computation():
    rewards = torch.tensor([[0.0, 1.0, 0.5, 0.0]])
    values = torch.tensor([[0.2, 0.4, 0.1, 9.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0]])  # the last position is padding
    gamma, lam = 0.9, 0.5
    d2 = 0.5 + 0 - 0.1  # V after the last response token is 0
    d1 = 1.0 + gamma * 0.1 - 0.4
    d0 = 0.0 + gamma * 0.4 - 0.2
    a2, a1 = d2, d1 + gamma * lam * d2
    a0 = d0 + gamma * lam * a1
    advantages, returns = gae(rewards, values, mask, gamma, lam)
    assert advantages[0].tolist() == pytest.approx([a0, a1, a2, 0.0])
    assert returns[0].tolist() == pytest.approx([a0 + 0.2, a1 + 0.4, a2 + 0.1, 0.0])


def _trainer(tiny, **config):
    from verikit.rl.config import StepPPOConfig
    from verikit.rl.ppo import StepPPOTrainer

    def reward(questions, prompts, responses, tokenizer):
        return [([-1], [1.0 if "14" in r else 0.0]) for r in responses]

    return StepPPOTrainer(tiny, reward, verikit.domain("sums"), StepPPOConfig(**config), device="cpu")


def test_kl_is_zero_when_the_policy_is_the_reference(tiny):
    from verikit.rl.ppo import response_stats

    trainer = _trainer(tiny)
    batch = trainer.make_batch(["q", "q"], [PROMPT, PROMPT], [RESPONSE, "Step 1: 3 * 4 = 13"], finished=[True, False])
    with torch.no_grad():
        policy, _ = response_stats(trainer.model, trainer.value_head, batch)
        reference, _ = response_stats(trainer.reference, None, batch, with_values=False)
    assert torch.count_nonzero(kl_per_token(policy, reference) * batch.response_mask) == 0
    assert trainer.prepare(batch)["kl"] == 0.0


def test_one_ppo_update_lowers_the_loss_on_a_fixed_batch(tiny):
    trainer = _trainer(tiny, learning_rate=1e-3, whiten_advantages=False)
    batch = trainer.make_batch(
        ["q"] * 4, [PROMPT] * 4, [RESPONSE, "Step 1: 3 * 4 = 13", RESPONSE, "The answer is 9"], finished=[True] * 4
    )
    fixed = trainer.prepare(batch)
    args = [fixed[k] for k in ("old_logprobs", "old_values", "advantages", "returns")]
    before = trainer.losses(batch, *args)["loss"]
    trainer.optimizer.zero_grad()
    before.backward()
    trainer.optimizer.step()
    with torch.no_grad():
        after = trainer.losses(batch, *args)["loss"]
    assert after.item() < before.item()


def test_a_ppo_step_from_sampled_rollouts_runs_and_reports(tiny, tmp_path):
    trainer = _trainer(tiny, prompts_per_step=4, minibatch_size=2, max_new_tokens=12)
    problems = verikit.load_dataset("sums", split="dev", limit=4)
    history = trainer.train(problems, steps=1, out=tmp_path / "ppo", progress=False)
    assert len(history) == 1 and {"rm_reward", "kl", "loss", "policy_loss", "value_loss"} <= set(history[0])
    resumed = _trainer(tiny, prompts_per_step=4, minibatch_size=2, max_new_tokens=12)
    assert resumed.load_checkpoint(tmp_path / "ppo") and resumed.steps_done == 1


def test_critic_warmup_moves_only_the_value_head_towards_the_returns(tiny):
    trainer = _trainer(tiny, critic_warmup_steps=1, critic_learning_rate=1e-2, learning_rate=1e-3, minibatch_size=2)
    batch = trainer.make_batch(
        ["q"] * 4, [PROMPT] * 4, [RESPONSE, "Step 1: 3 * 4 = 13", RESPONSE, "The answer is 9"], finished=[True] * 4
    )
    policy_before = [p.detach().clone() for p in trainer.model.parameters()]
    head_before = trainer.value_head.linear.weight.detach().clone()
    stats = trainer.step(batch)
    assert stats["critic_warmup"] and trainer.steps_done == 1
    assert all(torch.equal(a, b) for a, b in zip(policy_before, trainer.model.parameters()))
    assert not torch.equal(head_before, trainer.value_head.linear.weight)
    assert trainer.optimizer.param_groups[1]["lr"] == 1e-2 and trainer.optimizer.param_groups[0]["lr"] == 1e-3
    fixed = trainer.prepare(batch)  # a second look at the same batch: the critic is closer to its returns
    after = trainer.step(batch)  # past the warm-up: a normal PPO step that moves the policy
    assert "policy_loss" in after
    assert not all(torch.equal(a, b) for a, b in zip(policy_before, trainer.model.parameters()))
    assert stats["value_loss"] > 0 and fixed["old_values"].abs().sum() > 0


def test_an_advantage_floor_raises_only_the_advantages_below_it(tiny):
    batch_args = (["q"] * 4, [PROMPT] * 4, [RESPONSE, "Step 1: 3 * 4 = 13", RESPONSE, "The answer is 9"])
    plain = _trainer(tiny)
    floored = _trainer(tiny, advantage_floor=0.0)
    a = plain.prepare(plain.make_batch(*batch_args, finished=[True] * 4))["advantages"]
    batch = floored.make_batch(*batch_args, finished=[True] * 4)
    b = floored.prepare(batch)["advantages"]
    assert (a < 0).any() and (b >= 0).all()
    assert torch.equal(b, a.clamp(min=0.0) * batch.response_mask)


def test_grpo_process_advantages_match_a_hand_computation():
    # two responses of one prompt; step rewards [0.9, 0.1] ending at tokens 1 and 3, and [0.5] ending at token 2
    advantages = process_advantages([[0.9, 0.1], [0.5]], [[1, 3], [2]], [4, 3], eps=0.0)
    mean = (0.9 + 0.1 + 0.5) / 3
    std = (((0.9 - mean) ** 2 + (0.1 - mean) ** 2 + (0.5 - mean) ** 2) / 3) ** 0.5
    r = [(0.9 - mean) / std, (0.1 - mean) / std, (0.5 - mean) / std]
    assert advantages[0] == pytest.approx([r[0] + r[1], r[0] + r[1], r[1], r[1]])
    assert advantages[1] == pytest.approx([r[2], r[2], r[2]])
    assert process_advantages([[], []], [[], []], [2, 1]) == [[0.0, 0.0], [0.0]]


def test_own_step_credit_gives_each_token_its_own_steps_normalised_reward():
    # rewards [0.9, 0.1] ending at tokens 1 and 3 (token 4, an EOS, follows the last step), and [0.5] ending at 2
    advantages = process_advantages([[0.9, 0.1], [0.5]], [[1, 3], [2]], [5, 3], eps=0.0, credit="own-step")
    mean = (0.9 + 0.1 + 0.5) / 3
    std = (((0.9 - mean) ** 2 + (0.1 - mean) ** 2 + (0.5 - mean) ** 2) / 3) ** 0.5
    r = [(0.9 - mean) / std, (0.1 - mean) / std, (0.5 - mean) / std]
    assert advantages[0] == pytest.approx([r[0], r[0], r[1], r[1], r[1]])
    assert advantages[1] == pytest.approx([r[2], r[2], r[2]])
    outcome = [[1.0], [0.0]], [[3], [1]], [4, 2]  # one reward per response: both credits agree
    assert process_advantages(*outcome, credit="own-step") == process_advantages(*outcome)
    with pytest.raises(ValueError, match="credit"):
        process_advantages(*outcome, credit="later")


def test_group_baseline_advantages_are_the_groups_normalised_rewards_to_come_minus_the_kl_to_come(tiny):
    # two prompts × two samples; the reward (1 if "14" in the response) lands on each response's last token
    trainer = _trainer(tiny, baseline="group", samples_per_prompt=2, kl_coef=0.5)
    responses = [RESPONSE, "Step 1: 3 * 4 = 13", "The answer is 9", RESPONSE]
    batch = trainer.make_batch(["q"] * 4, [PROMPT] * 4, responses, finished=[True] * 4)
    lengths = batch.response_mask.sum(dim=1).long().tolist()
    kl = torch.zeros_like(batch.response_mask)
    kl[0, 0], kl[0, 2], kl[3, 1] = 0.2, 0.1, 0.4
    advantages = trainer.group_advantages(batch, trainer.reward_placements(batch), kl)
    # group 1: rewards 1 and 0 → normalised +1 and −1 on every token; group 2: 0 and 1 → −1 and +1
    expected = torch.zeros_like(batch.response_mask)
    for row, sign in enumerate([1.0, -1.0, -1.0, 1.0]):
        expected[row, : lengths[row]] = sign
    expected[0, 0] -= 0.5 * (0.2 + 0.1)  # the KL to come from each token on, times kl_coef
    expected[0, 1:3] -= 0.5 * 0.1
    expected[3, :2] -= 0.5 * 0.4
    assert torch.allclose(advantages, expected, atol=1e-3)  # atol: the eps of the normalisation
    assert torch.equal(trainer.prepare(batch)["returns"], torch.zeros_like(batch.response_mask))


def test_a_group_step_samples_each_prompt_several_times_and_trains_no_critic(tiny):
    trainer = _trainer(
        tiny, baseline="group", samples_per_prompt=3, prompts_per_step=2, minibatch_size=6, max_new_tokens=12
    )
    problems = verikit.load_dataset("sums", split="dev", limit=2)
    batch = trainer.rollout(problems)
    assert batch.questions == [problems[0].question] * 3 + [problems[1].question] * 3
    head = trainer.value_head.linear.weight.detach().clone()
    stats = trainer.step(batch)
    assert "value_loss" not in stats and torch.equal(head, trainer.value_head.linear.weight)


def test_log_probs_are_those_of_the_sampling_temperature(tiny):
    from verikit.rl.ppo import response_stats

    trainer = _trainer(tiny)
    batch = trainer.make_batch(["q"], [PROMPT], [RESPONSE], finished=[True])
    with torch.no_grad():
        cooled, _ = response_stats(trainer.model, None, batch, with_values=False, temperature=0.5)
        logits = trainer.model(input_ids=batch.input_ids).logits[0, batch.starts[0] - 1 : -1]
    expected = (
        torch.log_softmax(logits / 0.5, dim=-1)
        .gather(-1, batch.input_ids[0, batch.starts[0] :].unsqueeze(-1))
        .squeeze(-1)
    )
    assert cooled[0].tolist() == pytest.approx(expected.tolist(), abs=1e-5)


def test_frozen_embeddings_stay_put_while_the_layers_learn(tiny):
    trainer = _trainer(tiny, train_embeddings=False, learning_rate=1e-3, minibatch_size=4)
    batch = trainer.make_batch(
        ["q"] * 4, [PROMPT] * 4, [RESPONSE, "Step 1: 3 * 4 = 13", RESPONSE, "The answer is 9"], finished=[True] * 4
    )
    embeddings = trainer.model.get_input_embeddings().weight.detach().clone()
    layers = [p.detach().clone() for n, p in trainer.model.named_parameters() if "layers" in n]
    trainer.step(batch)
    assert torch.equal(embeddings, trainer.model.get_input_embeddings().weight)
    assert (
        torch.equal(trainer.model.get_output_embeddings().weight, trainer.model.get_input_embeddings().weight)
        or not trainer.model.get_output_embeddings().weight.requires_grad
    )
    moved = [
        not torch.equal(a, p)
        for a, (n, p) in zip(layers, [(n, p) for n, p in trainer.model.named_parameters() if "layers" in n])
    ]
    assert any(moved)


def test_learning_rates_warm_up_linearly_over_the_first_updates(tiny):
    trainer = _trainer(
        tiny, warmup_updates=4, learning_rate=1e-3, critic_learning_rate=1e-2, minibatch_size=2, ppo_epochs=1
    )
    batch = trainer.make_batch(
        ["q"] * 4, [PROMPT] * 4, [RESPONSE, "Step 1: 3 * 4 = 13", RESPONSE, "The answer is 9"], finished=[True] * 4
    )
    seen = []
    for _ in range(3):  # two updates per step (4 rows, minibatches of 2)
        trainer.step(batch)
        seen.append([group["lr"] for group in trainer.optimizer.param_groups])
    assert seen[0] == pytest.approx([2e-3 / 4, 2e-2 / 4])  # the second update ran at 2/4 of the rates
    assert seen[1] == pytest.approx([1e-3, 1e-2]) and seen[2] == pytest.approx([1e-3, 1e-2])


@pytest.mark.parametrize(
    "decay, expected",
    [
        ("linear", [1.0, 0.75, 0.5, 0.25]),
        ("cosine", [1.0, 0.8535534, 0.5, 0.1464466]),
        ("constant", [1.0, 1.0, 1.0, 1.0]),
    ],
)
def test_learning_rates_decay_over_the_run(tiny, decay, expected):
    trainer = _trainer(
        tiny, lr_decay=decay, learning_rate=1e-3, critic_learning_rate=1e-2, minibatch_size=4, ppo_epochs=1
    )
    batch = trainer.make_batch(
        ["q"] * 4, [PROMPT] * 4, [RESPONSE, "Step 1: 3 * 4 = 13", RESPONSE, "The answer is 9"], finished=[True] * 4
    )
    trainer.total_steps = 4  # what train(problems, steps=4) sets
    seen = []
    for _ in range(4):
        trainer.step(batch)
        seen.append([group["lr"] for group in trainer.optimizer.param_groups])
    assert [lr for lr, _ in seen] == pytest.approx([1e-3 * f for f in expected])
    assert [critic for _, critic in seen] == pytest.approx([1e-2 * f for f in expected])


def test_lora_trains_only_adapters_and_saves_a_plain_merged_policy_that_resumes(tiny, tmp_path):
    from transformers import AutoModelForCausalLM

    pytest.importorskip("peft")
    trainer = _trainer(tiny, lora_rank=4, learning_rate=1e-2, minibatch_size=4)
    base = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if "lora_" not in n}
    adapters = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if "lora_B" in n}
    assert adapters and all(not p.requires_grad for n, p in trainer.model.named_parameters() if "lora_" not in n)
    batch = trainer.make_batch(
        ["q"] * 4, [PROMPT] * 4, [RESPONSE, "Step 1: 3 * 4 = 13", RESPONSE, "The answer is 9"], finished=[True] * 4
    )
    trainer.step(batch)
    trainer.save_checkpoint(tmp_path / "ppo")
    named = dict(trainer.model.named_parameters())
    assert all(torch.equal(value, named[n]) for n, value in base.items())
    assert any(not torch.equal(value, named[n]) for n, value in adapters.items())  # lora_B starts at 0 and moved
    batch = trainer.make_batch(["q"], [PROMPT], [RESPONSE], finished=[True])
    with torch.no_grad():
        live = trainer.model(input_ids=batch.input_ids).logits
        saved = AutoModelForCausalLM.from_pretrained(tmp_path / "ppo")(input_ids=batch.input_ids).logits
        reference = trainer.reference(input_ids=batch.input_ids).logits
    assert torch.allclose(live, saved, atol=1e-5) and not torch.allclose(live, reference, atol=1e-5)
    resumed = _trainer(tiny, lora_rank=4, learning_rate=1e-2, minibatch_size=4)
    assert resumed.load_checkpoint(tmp_path / "ppo") and resumed.steps_done == 1
    with torch.no_grad():
        assert torch.allclose(resumed.model(input_ids=batch.input_ids).logits, live, atol=1e-5)


def test_a_group_baseline_needs_a_group():
    from verikit.rl.config import StepPPOConfig

    with pytest.raises(ValueError, match="samples_per_prompt"):
        StepPPOConfig(baseline="group")
    with pytest.raises(ValueError, match="baseline"):
        StepPPOConfig(baseline="mean")
    with pytest.raises(ValueError, match="lr_decay"):
        StepPPOConfig(lr_decay="step")
    with pytest.raises(ValueError, match="process_credit"):
        StepPPOConfig(baseline="group", samples_per_prompt=2, process_credit="later")


def test_rft_keeps_distinct_correct_samples_and_fine_tunes_on_them(tiny, tmp_path):
    from verikit.rl.rft import rejection_samples, supervised_finetune

    problems = verikit.load_dataset("sums", split="dev", limit=2)

    class Scripted:
        def complete(self, prompts, n=1, **kwargs):
            return [
                [f"Step 1: x\nThe answer is {problems[0].gold_answer}"] * 2 + ["The answer is -1"] * (n - 2),
                ["The answer is -1"] * n,
            ]

    pairs = rejection_samples(Scripted(), problems, verikit.domain("sums"), verikit.answer_checker("sums"), k=4)
    assert pairs == [
        (verikit.domain("sums").prompt(problems[0]), f"Step 1: x\nThe answer is {problems[0].gold_answer}")
    ]
    out = supervised_finetune(tiny, pairs * 4, tmp_path / "rft", epochs=1, batch_size=2, progress=False)
    assert (out / "config.json").exists()
    with pytest.raises(ValueError, match="no correct samples"):
        supervised_finetune(tiny, [], tmp_path / "none")


@pytest.mark.slow
@pytest.mark.parametrize("algo", ["step-ppo", "orm-ppo", "grpo-process"])
def test_the_rl_command_runs_each_algorithm_one_step_and_reports(tiny, tmp_path, algo):
    import json

    from typer.testing import CliRunner

    from verikit.cli import app

    result = CliRunner().invoke(
        app,
        [
            "rl",
            "--algo",
            algo,
            "--dataset",
            "sums",
            "--policy",
            tiny,
            "--rm",
            tiny,
            "--out",
            str(tmp_path / algo),
            "--steps",
            "1",
            "--train-problems",
            "8",
            "--eval-problems",
            "4",
            "--prompts-per-step",
            "4",
            "--max-new-tokens",
            "16",
            "--eval-every",
            "1",
            "--released-convention",
        ],
    )  # a plain LM stands in for the PRM
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / algo / "rl.json").read_text())
    assert summary["algo"] == algo and 0.0 <= summary["dev_greedy_acc"] <= 1.0
    if algo != "grpo-process":
        assert summary["history"][0]["eval"] == summary["dev_greedy_acc"]  # eval after the only step = final
