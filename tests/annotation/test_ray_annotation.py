"""Ray-distributed annotation on a local 2-worker cluster gives the single-process dataset, even when a worker dies."""

import os
import signal

import pytest

import verikit
from verikit.annotation.config import AnnotationConfig
from verikit.annotation.driver import annotate

ray = pytest.importorskip("ray", reason="Ray is installed by `make install` (extra verikit[ray])")


def _dataset(folder):
    return {
        r["key"]: (r["chunk"], r["hard_labels"], r["soft_labels"], r["error"]) for r in verikit.load_annotations(folder)
    }


@pytest.mark.slow
def test_two_ray_workers_one_killed_mid_run_give_the_single_process_dataset(toy, toy_lm, tmp_path):
    import torch

    from verikit.annotation.distributed import annotate_with_ray

    config = AnnotationConfig(
        dataset="sums",
        split="dev",
        limit=10,
        generator=str(toy_lm),
        samples_per_problem=2,
        n_rollouts=2,
        chunk_size=2,
        max_new_tokens=24,
        device="cpu",
        temperature=1.0,
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in the workers: the same kernels, the same floating-point sums
    try:
        annotate(config, tmp_path / "single", progress=False)
    finally:
        torch.set_num_threads(threads)

    killed = []

    def kill_one_worker(chunk, actors):
        if not killed:
            pid = ray.get(actors[0].pid.remote())
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    summary = annotate_with_ray(config, tmp_path / "ray", workers=2, progress=False, on_chunk_done=kill_one_worker)
    assert killed, "no worker was killed"
    single, distributed = _dataset(tmp_path / "single"), _dataset(tmp_path / "ray")
    assert len(single) == 20 and summary.solutions == 20
    assert distributed == single

    # a finished run resumed with Ray does nothing and changes nothing
    again = annotate_with_ray(config, tmp_path / "ray", workers=2, progress=False)
    assert again.skipped_chunks == 5 and _dataset(tmp_path / "ray") == single
