"""The build tools find the repository from the working directory, not from the installed package's files."""


from repository import repository_root

from helpers import ROOT


def test_the_repository_is_found_from_any_folder_inside_it():
    assert repository_root(ROOT / "src" / "collectsim") == ROOT
    assert repository_root(ROOT) == ROOT


def test_outside_a_repository_the_start_folder_is_returned(tmp_path):
    assert repository_root(tmp_path) == tmp_path.resolve()


def test_the_report_notebook_ships_in_the_package():
    from collectsim.present.report import NOTEBOOK

    assert NOTEBOOK.is_file() and NOTEBOOK.read_bytes() == (ROOT / "notebooks" / "05_policy_report.ipynb").read_bytes()


def test_no_file_in_the_repository_cites_the_internal_design_notes():
    """Users do not have the team's design notes: every citation points to docs/sources.md or the code."""
    name = "DESIGN" + ".md"  # spelled in two parts, so this file does not cite it either
    skip = {".git", ".venv", "results", "__pycache__", ".pytest_cache", ".ruff_cache", "build", "dist"}
    citing = []
    for path in ROOT.rglob("*"):
        if path.is_file() and not skip.intersection(path.relative_to(ROOT).parts) and path.suffix in {
                ".py", ".md", ".toml", ".ipynb", ".txt", ".cfg", ".json", ".csv", ".yml", ".yaml", ""}:
            if name in path.read_text(encoding="utf-8", errors="replace"):
                citing.append(str(path.relative_to(ROOT)))
    assert citing == []
