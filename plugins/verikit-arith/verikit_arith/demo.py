"""``verikit demo``: the paper's Table 1 on the CPU miniature, from the generators to the table.

Per preset, each stage reuses what an earlier run left in ``OUT/<preset>/`` (or the model cache), so a
second run takes seconds and a killed run continues where it stopped:

1. the policy and the completer (``verikit arith train-generator``; cached in ``~/.cache/verikit``);
2. Monte Carlo annotation of the *policy's* samples on train problems, rolled out by the completer
   (hard estimation with up to N=8 rollouts per step — the paper's N and generator/completer split), and
   the labels' agreement with gold. The rollouts are scheduled ``early-exit``: a step is ``+`` as soon as
   one rollout from it (or from a later step, whose prefix contains it) reaches the answer. Hard labels
   mean "some rollout of N succeeds", which this decides from the same kind of draws, so the labels are
   those of the paper's naive schedule with about a fifth of the rollouts (``--strategy naive`` runs the
   paper's schedule);
3. the reward models, all from the completer: ORM and PRM in the paper's form (tag head, hard labels)
   and the likelihood PRM (frozen base, logistic head on per-step log-probs — verikit's recipe);
4. greedy decoding and N samples per test problem from the policy;
5. every sample scored by every reward model (``min``), then Table 1 — greedy, SC, ORM, SC+ORM, PRM,
   SC+PRM, likelihood PRM, SC+likelihood PRM — at N with 95% intervals, best-of-N curves (PNG),
   and ``OUT/results.json`` = ``{preset: {method: {acc, ci_low, ci_high}}}``.

The sampling temperature was chosen on the dev split (``--temperature``; see the README); the test
split is only read here.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import verikit

TABLE = {  # row → (selector, reward model key)
    "self-consistency": ("self-consistency", None),
    "orm": ("best-of-n", "orm"),
    "sc+orm": ("sc+rm", "orm"),
    "prm": ("best-of-n", "prm"),
    "sc+prm": ("sc+rm", "prm"),
    "likelihood-prm": ("best-of-n", "likelihood-prm"),
    "sc+likelihood-prm": ("sc+rm", "likelihood-prm"),
}


@dataclass
class DemoSettings:
    presets: list[str] = field(default_factory=lambda: ["arith-easy"])
    annotate_problems: int = 400
    annotate_samples: int = 4
    rollouts: int = 8
    strategy: str = "early-exit"
    test_problems: int = 500
    samples: int = 64
    temperature: float = 1.0
    repeats: int = 20
    seed: int = 0
    policy: str | None = None  # model folders to use instead of training/reusing the cached ones
    completer: str | None = None


def _absolute(path: Path) -> str:
    """A local folder as an absolute path (benchmarks read details.json from anywhere); a hub id as it is."""
    return str(path.resolve()) if path.exists() else str(path)


def _stage(message: str) -> float:
    print(f"\n== {message}", flush=True)
    return time.perf_counter()


def _done(started: float, what: str) -> None:
    print(f"   {what} ({time.perf_counter() - started:.0f}s)", flush=True)


def _models(preset: str, settings: DemoSettings) -> tuple[Path, Path]:
    from verikit_arith.training import train_generator

    policy = Path(settings.policy) if settings.policy else train_generator(preset, role="policy")
    completer = Path(settings.completer) if settings.completer else train_generator(preset, role="completer")
    return policy, completer


def _annotate(preset: str, settings: DemoSettings, policy: Path, completer: Path, out: Path) -> dict:
    from verikit.annotation.config import AnnotationConfig
    from verikit.annotation.driver import annotate
    from verikit.annotation.quality import label_agreement
    from verikit_arith.evaluation import MAX_NEW_TOKENS

    config = AnnotationConfig(dataset=preset, split="train", limit=settings.annotate_problems, generator=str(policy),
                              completer=str(completer), samples_per_problem=settings.annotate_samples,
                              n_rollouts=settings.rollouts, strategy=settings.strategy, rollout_temperature=0.7,
                              chunk_size=40, batch_size=1024,
                              max_new_tokens=MAX_NEW_TOKENS.get(preset, 320), seed=settings.seed)
    summary = annotate(config, out)
    quality = label_agreement(verikit.load_annotations(out), verikit.domain("arith").load_gold_labeller())
    quality["seconds"] = summary.seconds
    return quality


def _reward_models(annotations: Path, completer: Path, out: Path) -> dict:
    from verikit.rm.data import load_examples
    from verikit.rm.likelihood import train_likelihood_prm
    from verikit.models import RM_MANIFEST
    from verikit.rm.config import PRMConfig
    from verikit.rm.training import train_reward_model

    seconds = {}
    for name, objective in (("orm", "orm"), ("prm", "prm")):
        if not (out / name / RM_MANIFEST).exists():
            started = time.perf_counter()
            train_reward_model(PRMConfig(base=str(completer), objective=objective, labels="hard", learning_rate=1e-3,
                                         epochs=4.0), annotations, out / name)
            seconds[name] = round(time.perf_counter() - started, 1)
    if not (out / "likelihood-prm" / RM_MANIFEST).exists():
        started = time.perf_counter()
        train_likelihood_prm(str(completer), load_examples(annotations, "prm", "hard"), out / "likelihood-prm", domain="arith")
        seconds["likelihood-prm"] = round(time.perf_counter() - started, 1)
    return seconds


def sample_test_problems(preset: str, settings: DemoSettings, policy: Path, path: Path) -> dict:
    """Greedy and sampled solutions of the test problems, cached in ``path`` for these exact settings."""
    from verikit_arith.evaluation import MAX_NEW_TOKENS

    key = {"policy": _absolute(policy), "problems": settings.test_problems, "samples": settings.samples,
           "temperature": settings.temperature, "seed": settings.seed}
    if path.exists():
        cached = json.loads(path.read_text())
        if cached["key"] == key:
            return cached
    problems = verikit.load_dataset(preset, split="test", limit=settings.test_problems)
    domain = verikit.domain(problems[0].domain)
    completer = verikit.completer("transformers", model=str(policy), max_new_tokens=MAX_NEW_TOKENS.get(preset, 320),
                                  batch_size=1024)
    prompts = [domain.prompt(p) for p in problems]
    greedy = completer.complete(prompts, n=1, temperature=0.0, seed=settings.seed)
    from tqdm.auto import tqdm

    bar = tqdm(total=len(prompts), desc=f"sampling {settings.samples} per problem", unit="problem")
    sampled = completer.complete(prompts, n=settings.samples, temperature=settings.temperature, seed=settings.seed + 1,
                                 progress=bar.update)
    bar.close()
    data = {"key": key, "greedy": [g[0] for g in greedy], "samples": sampled}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)  # atomic: a killed run never leaves half a file
    return data


def best_of_n_table(preset: str, settings: DemoSettings, data: dict, models: Path, out: Path) -> dict:
    from verikit.bon import bon_curves, gather_samples, plot_curves, set_scores, within_problem_pairwise_auc
    from verikit.metrics import bootstrap_accuracy
    from verikit.components import load_scorer
    from verikit.rm.scorer import score_unique

    problems = verikit.load_dataset(preset, split="test", limit=settings.test_problems)
    domain = verikit.domain(problems[0].domain)
    checker, splitter = verikit.answer_checker(domain.answer_checker), verikit.step_splitter(domain.step_splitter)
    entries, readable, unscorable = gather_samples(problems, data["samples"], checker, splitter)
    pairwise = {}
    for name in ("orm", "prm", "likelihood-prm"):
        cache = out / f"scores-{name}.json"
        cached = json.loads(cache.read_text()) if cache.exists() else {}
        if cached.get("key") == data["key"]:
            step_scores = cached["step_scores"]
        else:
            started = time.perf_counter()
            step_scores = score_unique(load_scorer(models / name, batch_size=64), [r.question for r in readable],
                                       [r.steps for r in readable])
            cache.write_text(json.dumps({"key": data["key"], "step_scores": step_scores}))
            print(f"   scored {len(readable)} samples with {name} ({time.perf_counter() - started:.0f}s)", flush=True)
        set_scores(entries, readable, step_scores, name, "min")
        pairwise[name] = within_problem_pairwise_auc(entries, name)
    ns = [n for n in (1, 2, 4, 8, 16, 32, 64, 128, 256) if n <= settings.samples]
    curves = bon_curves(entries, TABLE, ns, repeats=settings.repeats, seed=settings.seed)
    greedy = [checker.is_correct(text, p.gold_answer) for text, p in zip(data["greedy"], problems)]
    table = {"greedy": bootstrap_accuracy(greedy, settings.seed)}
    for method in TABLE:
        point = curves[method][settings.samples]
        table[method] = {"acc": point["acc"], "ci_low": point["ci_low"], "ci_high": point["ci_high"]}
    table["pass@n"] = bootstrap_accuracy([any(e.correct) for e in entries], settings.seed)
    plot_curves(curves, out / "bon.png", title=f"{preset} test: best-of-N ({len(problems)} problems)")
    (out / "curves.json").write_text(json.dumps({"curves": curves, "pairwise_auc": pairwise, "unscorable_samples": unscorable},
                                                indent=2, default=str) + "\n")
    # entries (every sample's answer, verdict and scores) stay in memory for callers that go on with them
    return {"table": table, "pairwise_auc": pairwise, "unscorable_samples": unscorable, "entries": entries}


def print_table(results: dict, samples: int) -> None:
    rows = ["greedy", *TABLE, "pass@n"]
    labels = {"pass@n": f"pass@{samples} (ceiling)", "likelihood-prm": "likelihood PRM", "sc+likelihood-prm": "SC+likelihood PRM",
              "self-consistency": "SC", "orm": "ORM", "sc+orm": "SC+ORM", "prm": "PRM (paper)", "sc+prm": "SC+PRM (paper)",
              "greedy": "greedy"}
    presets = [p for p in results if not p.startswith("_")]
    print(f"\nTable 1 (miniature): accuracy at N={samples}, 95% interval")
    print(f"{'method':<22}" + "".join(f"{p:>24}" for p in presets))
    for row in rows:
        cells = "".join(f"{100 * results[p][row]['acc']:>9.1f} [{100 * results[p][row]['ci_low']:4.1f},{100 * results[p][row]['ci_high']:5.1f}]".rjust(24)
                        for p in presets)
        print(f"{labels[row]:<22}{cells}")


def run_demo(out: str | Path, settings: DemoSettings | None = None) -> dict:
    settings = settings or DemoSettings()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    started_all = time.perf_counter()
    results: dict = {}
    details: dict = {"settings": asdict(settings)}
    for preset in settings.presets:
        folder = out / preset
        folder.mkdir(exist_ok=True)
        started = _stage(f"{preset}: policy and completer (trained once, then cached)")
        policy, completer = _models(preset, settings)
        _done(started, f"policy {policy}, completer {completer}")
        started = _stage(f"{preset}: Monte Carlo annotation of the policy's samples (completer rollouts, N={settings.rollouts}, "
                         f"hard, {settings.strategy})")
        quality = _annotate(preset, settings, policy, completer, folder / "annotations")
        _done(started, f"{quality['solutions']} solutions, label accuracy vs gold {100 * quality['accuracy']:.1f}%, "
                       f"first-error agreement {100 * quality['first_error_agreement']:.1f}%")
        started = _stage(f"{preset}: reward models (ORM, PRM, likelihood PRM) from the completer")
        training = _reward_models(folder / "annotations", completer, folder)
        _done(started, f"trained {', '.join(training) or 'nothing (all cached)'}")
        started = _stage(f"{preset}: greedy and {settings.samples} samples per test problem (T={settings.temperature})")
        data = sample_test_problems(preset, settings, policy, folder / "samples.json")
        _done(started, f"{len(data['samples'])} problems")
        started = _stage(f"{preset}: scoring and best-of-N")
        summary = best_of_n_table(preset, settings, data, folder, folder)
        shutil.copyfile(folder / "bon.png", out / f"bon-{preset}.png")  # every preset's plot beside results.json
        _done(started, "table ready")
        results[preset] = summary["table"]
        details[preset] = {"annotation_quality": quality, "training_seconds": training, "pairwise_auc": summary["pairwise_auc"],
                           "unscorable_samples": summary["unscorable_samples"], "policy": _absolute(policy),
                           "completer": _absolute(completer)}
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    details["seconds"] = round(time.perf_counter() - started_all, 1)
    (out / "details.json").write_text(json.dumps(details, indent=2, default=str) + "\n")
    print_table(results, settings.samples)
    for preset in settings.presets:
        print(f"{preset}: within-problem pairwise AUC " + ", ".join(f"{k} {v:.3f}" for k, v in details[preset]["pairwise_auc"].items()))
    print(f"\nwrote {out / 'results.json'}, {out / 'details.json'} and {out}/bon-<preset>.png in {details['seconds'] / 60:.1f} min")
    return results
