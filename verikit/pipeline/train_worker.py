"""One reward-model training inside ``accelerate launch`` (every process runs this; Trainer shards the work).

    accelerate launch --config_file CONFIG -m verikit.pipeline.train_worker REQUEST.json OUT

``REQUEST.json`` holds the :class:`~verikit.rm.config.PRMConfig` and the annotation folders; written by the
pipeline's train stage.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    from verikit.pipeline.training import merged_examples
    from verikit.rm.config import PRMConfig
    from verikit.rm.training import train_reward_model

    request_path, out = (argv if argv is not None else sys.argv[1:])[:2]
    request = json.loads(Path(request_path).read_text())
    config = PRMConfig(**request["config"])
    examples = merged_examples([Path(f) for f in request["annotations"]], config.objective, config.labels)
    train_reward_model(config, examples, out)


if __name__ == "__main__":
    main()
