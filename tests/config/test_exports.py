"""config/exports.py: spreadsheet-safe CSV cells, and private files written whole or not at all."""

import io
import stat

import pytest

from config.exports import csv_writer, private_file, spreadsheet_safe


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Acme = best", "Acme = best"),
        ("ada@example.com", "ada@example.com"),
        ("", ""),
        (None, None),
        (-5, -5),  # numbers are ours, not text someone typed
    ],
)
def test_spreadsheet_safe(value, written):
    assert spreadsheet_safe(value) == written


def test_csv_writer_neutralises_every_cell():
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(["=1+1", "plain", 3, None])
    writer.writerows([["@x"], ["-y"]])
    assert out.getvalue() == "'=1+1,plain,3,\n'@x\n'-y\n"


def _listing(folder):
    return sorted(path.name for path in folder.iterdir())


def test_private_file_is_owner_only_and_appears_complete(tmp_path):
    target = tmp_path / "codes.csv"
    with private_file(target, replace=False) as handle:
        handle.write("a,b\n")
        (writing,) = _listing(tmp_path)  # a hidden temporary file; no codes.csv until complete
        assert writing.startswith(".codes.csv.") and writing.endswith(".part")
        assert stat.S_IMODE((tmp_path / writing).stat().st_mode) == 0o600
    assert target.read_text() == "a,b\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert _listing(tmp_path) == ["codes.csv"]


def test_an_error_half_way_leaves_nothing(tmp_path):
    target = tmp_path / "codes.csv"
    with (
        pytest.raises(RuntimeError, match="database went away"),
        private_file(target, replace=False) as handle,
    ):
        handle.write("half of the rows\n")
        raise RuntimeError("database went away")
    assert _listing(tmp_path) == []


def test_an_error_half_way_keeps_the_file_it_was_to_replace(tmp_path):
    target = tmp_path / "codes.csv"
    target.write_text("yesterday's codes\n")
    with pytest.raises(KeyboardInterrupt), private_file(target, replace=True) as handle:
        handle.write("half\n")
        raise KeyboardInterrupt
    assert target.read_text() == "yesterday's codes\n"
    assert _listing(tmp_path) == ["codes.csv"]


def test_existing_files_are_replaced_only_when_asked(tmp_path):
    target = tmp_path / "codes.csv"
    target.write_text("keep\n")
    target.chmod(0o644)
    with pytest.raises(FileExistsError), private_file(target, replace=False):
        pass
    assert target.read_text() == "keep\n"

    with private_file(target, replace=True) as handle:
        handle.write("new\n")
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert _listing(tmp_path) == ["codes.csv"]


def test_a_file_that_appears_while_writing_is_not_overwritten(tmp_path):
    target = tmp_path / "codes.csv"
    with pytest.raises(FileExistsError), private_file(target, replace=False) as handle:
        handle.write("ours\n")
        target.write_text("someone else's\n")
    assert target.read_text() == "someone else's\n"
    assert _listing(tmp_path) == ["codes.csv"]


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda folder: (folder / "x").mkdir() or folder / "x", IsADirectoryError),
        (lambda folder: folder / "missing" / "x.csv", FileNotFoundError),
    ],
    ids=["a folder", "in a missing folder"],
)
def test_targets_that_cannot_be_files_are_refused_before_writing(tmp_path, make, error):
    target = make(tmp_path)
    before = _listing(tmp_path)
    with pytest.raises(error), private_file(target, replace=True):
        pytest.fail("the block must not run")
    assert _listing(tmp_path) == before
