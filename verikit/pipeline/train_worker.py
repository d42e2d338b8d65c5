"""One training inside ``accelerate launch`` (every process runs this; Trainer shards the work).

    accelerate launch --config_file CONFIG -m verikit.pipeline.train_worker REQUEST.json OUT

``REQUEST.json`` says the job: ``{"job": "reward-model", "kind", "labels", "base", "settings", "annotations"}``
(written by the train stage) or ``{"job": "sft", "base", "settings", "pairs"}`` (the finetune stage).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    request_path, out = (argv if argv is not None else sys.argv[1:])[:2]
    request = json.loads(Path(request_path).read_text())
    if request["job"] == "sft":
        from verikit.sft import SFTSettings, finetune

        finetune(SFTSettings(**request["settings"]), request["base"], [tuple(p) for p in request["pairs"]], out)
        return
    from verikit.pipeline.stages.train import merged_examples
    from verikit.rm.kinds import trainable_kind

    kind = trainable_kind(request["kind"])
    examples = merged_examples([Path(f) for f in request["annotations"]], kind.targets, request["labels"])
    kind.train(
        kind.settings(**request["settings"]),
        request["base"],
        examples,
        out,
        labels=request["labels"],
        domain=examples.domain,
    )


if __name__ == "__main__":
    main()
