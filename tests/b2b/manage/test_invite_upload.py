"""Reading a manager's CSV of people to invite: what is read, and the files refused whole."""

import pytest

from b2b.exceptions import UploadRefused
from b2b.services.invitations.uploads import UploadRow, formula_cells, parse_invite_csv


def parse(data: bytes, *, max_rows: int = 100, max_bytes: int = 10_000) -> list[UploadRow]:
    return parse_invite_csv(data, max_rows=max_rows, max_bytes=max_bytes)


def test_header_with_name_column_in_any_order_and_blank_lines_skipped():
    data = "Name,E-mail\r\nAda Lovelace, ada@example.com \r\n,,\r\n\r\nBob,bob@example.com\r\n"
    assert parse(data.encode()) == [
        UploadRow(line=2, email="ada@example.com", name="Ada Lovelace"),
        UploadRow(line=5, email="bob@example.com", name="Bob"),
    ]


def test_no_header_when_the_first_cell_is_an_address():
    assert parse(b"ada@example.com,Ada\nbob@example.com\n") == [
        UploadRow(line=1, email="ada@example.com", name="Ada"),
        UploadRow(line=2, email="bob@example.com", name=""),
    ]


def test_excel_utf8_bom_and_semicolons():
    data = "\ufeffEmail;Name\nzoe@example.com;Zoë Ünal\n".encode()
    assert parse(data) == [UploadRow(line=2, email="zoe@example.com", name="Zoë Ünal")]


def test_a_quoted_name_may_hold_the_separator():
    assert parse(b'email,name\nada@example.com,"Lovelace, Ada"\n') == [
        UploadRow(line=2, email="ada@example.com", name="Lovelace, Ada")
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            "email,name\nzoe@example.com,Zoë\n".encode("latin-1"),
            'The file is not UTF-8 text (line 2). In your spreadsheet, save it as "CSV UTF-8" '
            "and upload it again.",
        ),
        (b"PK\x03\x04\x00\x00binary", "The file is not a CSV text file. Upload a .csv file."),
        (
            b"name,company\nAda,ACME\n",
            'The file has no e-mail column: its first line must name one "email" (and may name '
            'one "name"), or every line must start with an e-mail address.',
        ),
        (b"", "The file is empty."),
        (b"\n\n", "The file is empty."),
        (b"email\n\n", "The file has no e-mail addresses under its header."),
        (
            b'email,name\nada@example.com,"unterminated\n',
            "The file is not valid CSV (line 2): unexpected end of data.",
        ),
    ],
)
def test_files_refused_whole_with_one_sentence(data, message):
    with pytest.raises(UploadRefused) as raised:
        parse(data)
    assert str(raised.value) == message


def test_too_many_rows():
    data = "email\n" + "".join(f"p{i}@example.com\n" for i in range(4))
    assert len(parse(data.encode(), max_rows=4)) == 4
    with pytest.raises(UploadRefused) as raised:
        parse(data.encode(), max_rows=3)
    assert str(raised.value) == "The file has more than 3 rows. Split it into smaller files."


def test_too_large():
    with pytest.raises(UploadRefused) as raised:
        parse(b"email\n" + b"a" * 20_000, max_bytes=10_000)
    assert str(raised.value) == (
        "The file is too large (20,006 bytes); the limit is 10,000 bytes. "
        "Split it into smaller files."
    )


@pytest.mark.parametrize(
    ("name", "refused"),
    [
        ('=HYPERLINK("http://x")', True),
        ("+1", True),
        ("@SUM(A1)", True),
        ("-2", True),
        ("Ada", False),
        ("", False),
    ],
)
def test_formula_names(name, refused):
    assert formula_cells(UploadRow(line=2, email="a@example.com", name=name)) is refused
