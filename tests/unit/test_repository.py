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
