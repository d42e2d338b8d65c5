"""The PPO dev study's config parsing (benchmarks.arith.ppo_dev)."""

import pytest

from benchmarks.arith.ppo_dev import DEFAULT_CONFIGS, parse_config


def test_overrides_are_typed_after_the_config_fields():
    name, overrides = parse_config(
        "warm:learning_rate=3e-5,lam=1,critic_shares_trunk=False,critic_warmup_steps=10,critic_learning_rate=1e-3"
    )
    assert name == "warm"
    assert overrides == {
        "learning_rate": 3e-5,
        "lam": 1.0,
        "critic_shares_trunk": False,
        "critic_warmup_steps": 10,
        "critic_learning_rate": 1e-3,
    }
    assert isinstance(overrides["critic_warmup_steps"], int) and isinstance(overrides["lam"], float)
    assert parse_config("plain:") == ("plain", {})


def test_an_unknown_field_is_a_clear_error():
    with pytest.raises(SystemExit, match="field 'learning_rat': unknown field"):
        parse_config("typo:learning_rat=1e-5")


def test_the_default_configs_parse():
    assert len({parse_config(c)[0] for c in DEFAULT_CONFIGS}) == len(DEFAULT_CONFIGS)


def test_string_fields_parse_as_strings():
    assert parse_config("g:baseline=group,process_credit=own-step,samples_per_prompt=8")[1] == {
        "baseline": "group",
        "process_credit": "own-step",
        "samples_per_prompt": 8,
    }


def test_the_gold_step_reward_puts_each_steps_exact_label_on_its_last_token():
    import verikit
    from benchmarks.arith.ppo_dev import gold_step_rewards
    from verikit_arith.tokenizer import build_tokenizer

    problem = verikit.load_dataset("arith-easy", split="dev", limit=1)[0]
    domain = verikit.domain(problem.domain)
    splitter = verikit.step_splitter(domain.step_splitter)
    tokenizer = build_tokenizer()
    good = problem.gold_solution
    steps = good.split("\n")
    slipped = "\n".join([steps[0] + "1"] + steps[1:])  # the first result gets a wrong extra digit
    prompt = domain.prompt(problem)
    reward = gold_step_rewards(splitter, [problem])
    (good_positions, good_labels), (bad_positions, bad_labels) = reward(
        [problem.question] * 2, [prompt] * 2, [good, slipped], tokenizer
    )
    assert good_labels == [1.0] * len(steps) and bad_labels == [0.0] * len(steps)
    assert len(good_positions) == len(steps) and good_positions == sorted(good_positions)
    response_ids = tokenizer(prompt + good, add_special_tokens=False)["input_ids"][
        len(tokenizer(prompt, add_special_tokens=False)["input_ids"]) :
    ]
    assert good_positions[-1] == len(response_ids) - 1


def test_the_coin_flip_control_is_seeded_binary_and_on_the_last_token():
    from verikit.rl.rewards import coin_flip_reward

    responses = ["Step 1: 1 + 1 = 2\nThe answer is 2"] * 400
    first = coin_flip_reward(seed=3)(["q"] * 400, ["p"] * 400, responses, None)
    again = coin_flip_reward(seed=3)(["q"] * 400, ["p"] * 400, responses, None)
    other = coin_flip_reward(seed=4)(["q"] * 400, ["p"] * 400, responses, None)
    assert first == again and first != other
    assert {tuple(positions) for positions, _ in first} == {(-1,)}
    heads = [scores[0] for _, scores in first]
    assert set(heads) == {0.0, 1.0} and 150 < sum(heads) < 250  # a fair coin: 200 ± 5 sd


def test_lora_and_lr_decay_settings_parse():
    assert parse_config("l:lora_rank=8,lora_alpha=32,lr_decay=cosine")[1] == {
        "lora_rank": 8,
        "lora_alpha": 32.0,
        "lr_decay": "cosine",
    }
