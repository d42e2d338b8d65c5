"""Help and tables print extras such as ``verikit[serve]`` as written: rich markup would read ``[serve]`` as a tag."""

from typer.testing import CliRunner

from verikit.cli import app


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "250", "TERM": "dumb"})
    assert result.exit_code == 0, result.output
    return result.output


def test_help_keeps_extra_names():
    assert "verikit[serve]" in _run("serve", "--help")


def test_plugins_table_keeps_extra_names():
    assert "verikit[vllm]" in _run("plugins")


def test_failure_text_is_not_markup(monkeypatch):
    from verikit.plugins import PluginFailure, get_host

    host = get_host()
    monkeypatch.setattr(host, "failures", [PluginFailure("acme[units]", "load", "needs 'acme[extra]'")])
    output = _run("plugins")
    assert "acme[units]" in output and "acme[extra]" in output
