"""`verikit report` / the pipeline's report.html, rendered in a real headless Chromium: it loads with no console
errors, a filter changes what is shown, the keyboard opens a solution, planted HTML stays text, and a screenshot is
kept under the test's temp folder."""

import json
import os
import re
import shutil

import pytest

PLANTED = "<script>window.__pwned = 1</script><b>bold?</b> "
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def chromium():
    """Debian's chromium (`.ci/run` installs it) driven by Playwright; skipped only outside CI when absent."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        path = None
    if path is None:
        if os.environ.get("VERIKIT_REQUIRE_BROWSER") or os.environ.get("CI"):
            pytest.fail("CI needs chromium and playwright for the browser tests (.ci/run installs them)")
        pytest.skip("no chromium or playwright here")
    return path


@pytest.fixture
def run(toy, toy_lm, tmp_path, monkeypatch):
    """A pipeline run on the tests' sums domain (it has gold step labels), one question carrying planted HTML."""
    original = toy.load_sums

    def planted(split="test", data_dir=None, limit=None):
        problems = original(split, data_dir, limit)
        problems[0] = problems[0].model_copy(update={"question": PLANTED + problems[0].question})
        return problems

    monkeypatch.setattr(toy, "load_sums", planted)
    recipe = tmp_path / "sums.yaml"
    recipe.write_text(f"""
name: sums-report
models: {{generator: {toy_lm}}}
annotate:
  datasets: [{{name: sums, split: train, limit: 4}}]
  samples_per_problem: 2
  n_rollouts: 2
  max_new_tokens: 40
reward_models:
  - {{name: prm, kind: prm, training: {{learning_rate: 1.0e-3, epochs: 1, batch_size: 4}}}}
  - {{name: orm, kind: orm, training: {{learning_rate: 1.0e-3, epochs: 1, batch_size: 4}}}}
sample:
  datasets: [{{name: sums, split: test, limit: 6}}]
  samples: 4
  max_new_tokens: 40
select: {{repeats: 2}}
""")
    from verikit.pipeline import reproduce

    reproduce(recipe, tmp_path / "run")
    return tmp_path / "run"


def _page_data(path):
    text = path.read_text(encoding="utf-8")
    return json.loads(re.search(r'<script type="application/json" id="data">(.*?)</script>', text, re.S).group(1))


def test_the_report_is_self_contained_and_bounded(run, run_cli, tmp_path):
    page = run / "report.html"  # written by the pipeline's report stage
    text = page.read_text(encoding="utf-8")
    assert not re.search(r'<(?:script|link|img)[^>]+(?:src|href)=["\']?(?:https?:)?//', text)  # nothing fetched
    assert PLANTED not in text and "<svg" in text  # the planted HTML is only inside escaped JSON data
    data = _page_data(page)
    [dataset] = data["datasets"]
    assert dataset["models"][0] == "prm" and dataset["limits"]["total_samples"] == 24
    code, output = run_cli(["report", "--run", run, "--out", tmp_path / "small.html", "--top-k", 2, "--per-problem", 1])
    assert code == 0, output
    small = _page_data(tmp_path / "small.html")["datasets"][0]
    assert all(len(rows) <= 2 for lists in small["lists"].values() for rows in lists.values())
    assert all(len(p["shown"]) <= 1 for p in small["problems"])
    assert small["limits"]["shown_samples"] <= dataset["limits"]["shown_samples"]


def test_the_report_in_a_real_browser(run, chromium, tmp_path):
    from playwright.sync_api import sync_playwright

    errors = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto((run / "report.html").as_uri())
            page.wait_for_selector("#problems .question")
            assert errors == []
            assert page.evaluate("window.__pwned") is None  # the planted script never ran
            assert PLANTED.strip() in page.inner_text("#problems")  # … and is shown as text
            # a filter changes what is shown
            for tab in ("high_wrong", "low_correct", "drop_vs_error", "mc_vs_gold"):  # the first list with rows
                page.click(f"button[data-tab='{tab}']")
                if page.locator("#list tr.row").count():
                    break
            before = page.locator("#list tr.row").count()
            assert before > 0
            first_question = page.locator("#list tr.row td").first.inner_text()
            page.fill("#filter", first_question[:12])
            assert 1 <= page.locator("#list tr.row").count() <= before
            page.fill("#filter", "no question reads like this")
            assert page.locator("#list tr.row").count() == 0 and "0 shown" in page.inner_text("#count")
            page.fill("#filter", "")
            assert page.locator("#list tr.row").count() == before
            # the keyboard opens a sample from a problem: Tab to its button, Enter
            page.focus("#problems button.sample")
            page.keyboard.press("Enter")
            assert page.locator("#viewer .step").count() >= 1 and "score" in page.inner_text("#viewer")
            screenshot = tmp_path / "report.png"
            page.screenshot(path=str(screenshot))
            assert screenshot.stat().st_size > 10_000
            assert errors == []
        finally:
            browser.close()
