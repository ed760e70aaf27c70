"""Tests for subscribers.roster: encodings, headers, line-numbered problems."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outreach.errors import RosterError, RosterProblem
from subscribers.roster import RosterRow, clean_text, guard_formula, parse_roster, unguard_formula

SAMPLE = "email,company,name\r\nTaro@Example.jp,ACME,Taro Yamada\r\nhanako@example.jp,,\r\n"
SAMPLE_ROWS = [
    RosterRow(line=2, email="taro@example.jp", company="ACME", name="Taro Yamada"),
    RosterRow(line=3, email="hanako@example.jp", company="", name=""),
]


def problems_of(data: bytes, **options: int) -> list[RosterProblem]:
    with pytest.raises(RosterError) as caught:
        parse_roster(data, **options)
    return caught.value.problems


def test_utf8_without_bom() -> None:
    assert parse_roster(SAMPLE.encode()) == SAMPLE_ROWS


def test_utf8_with_bom() -> None:
    assert parse_roster(SAMPLE.encode("utf-8-sig")) == SAMPLE_ROWS


def test_cp932_as_excel_saves_it() -> None:
    text = (
        "メールアドレス,会社名,氏名\r\n"
        "takahashi@example.jp,株式会社髙橋製作所,髙橋　一郎\r\n"
        "info@例え.jp,①商事,山田 花子\r\n"
    )
    assert parse_roster(text.encode("cp932")) == [
        RosterRow(line=2, email="takahashi@example.jp", company="株式会社髙橋製作所", name="髙橋　一郎"),
        RosterRow(line=3, email="info@xn--r8jz45g.jp", company="①商事", name="山田 花子"),
    ]


def test_utf8_japanese_headers_in_other_spellings() -> None:
    text = " E-Mail ,企業名,担当者名\na@example.jp,髙橋製作所,髙橋\n"
    assert parse_roster(text.encode()) == [
        RosterRow(line=2, email="a@example.jp", company="髙橋製作所", name="髙橋"),
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe\x00e\x00m\x00a\x00i\x00l\x00",  # UTF-16LE with BOM
        "email\r\na@example.jp\r\n".encode("utf-16-le"),  # UTF-16 without BOM: ASCII with NUL bytes
    ],
)
def test_utf16_is_refused_as_a_whole(data: bytes) -> None:
    [problem] = problems_of(data)
    assert problem.line == 1
    assert "neither UTF-8 nor Shift_JIS/CP932" in problem.message
    assert "UTF-16" in problem.message


@pytest.mark.parametrize(
    ("data", "line", "where"),
    [
        # Latin-1: 0xE9 then CR is no CP932 pair
        (b"email,company\r\na@example.jp,Caf\xe9\r\n", 2, "the byte 0xE9 at character 17"),
        # Latin-1: 0xFC 0x6C is unassigned in CP932
        (b"email,name\r\na@example.jp,M\xfcller\r\n", 2, "the byte 0xFC at character 15"),
        # bytes that no Shift_JIS text has
        (b"email\r\n\x80\xa0\xfd@example.jp\r\n", 2, "the byte 0x80 at character 1"),
        # in a CP932 file, the position is counted in CP932 characters: 会社 is two, not four bytes
        (
            "email,会社\na@example.jp,株式\n".encode("cp932") + b"b@example.jp,\x82\xa0\xa0x\n",
            3,
            "0xA0 at character 15",
        ),
    ],
)
def test_an_unreadable_byte_is_named_with_its_line_and_position(data: bytes, line: int, where: str) -> None:
    [problem] = problems_of(data)
    assert problem.line == line
    assert where in problem.message
    assert "neither UTF-8 nor Shift_JIS/CP932" in problem.message


def _rows_text(count: int) -> str:
    return "".join(f"u{number}@example.jp,髙橋製作所,髙橋　一郎\r\n" for number in range(count))


def test_an_encoding_error_deep_in_the_file_names_its_line() -> None:
    data = ("email,company,name\r\n" + _rows_text(55)).encode() + b"late@example.jp,Caf\xe9,x\r\n"
    data += _rows_text(3).replace("u", "v").encode()

    [problem] = problems_of(data)

    assert problem.line == 57
    assert "0xE9 at character 20" in problem.message


JA_HEADER = "メールアドレス,会社名,氏名\r\n"


def test_a_utf8_line_in_a_cp932_file_is_refused_though_cp932_would_read_it() -> None:
    """The UTF-8 bytes of 株式会社ミュラー read as CP932 too, as 譬ｪ蠑丈ｼ夂､ｾ…: mojibake in the making."""
    utf8_line = "mueller@example.jp,株式会社ミュラー,ミュラー\r\n".encode()
    data = (JA_HEADER + _rows_text(55)).encode("cp932") + utf8_line + _rows_text(3).encode("cp932")
    assert data.decode("cp932")  # the whole file is valid CP932: only its lines tell

    [problem] = problems_of(data)

    assert problem.line == 57
    assert problem.message == (
        "this line is UTF-8 but the file is CP932 (Shift_JIS): "
        "save the whole file in one encoding (from Excel: 'CSV UTF-8')"
    )


def test_a_utf8_line_that_cp932_cannot_read_is_named_too() -> None:
    lines = [
        JA_HEADER.encode("cp932"),
        "a@example.jp,髙橋製作所\r\n".encode("cp932"),
        "b@example.jp,海外安全商事\r\n".encode(),
    ]

    [problem] = problems_of(b"".join(lines))

    assert problem.line == 3
    assert "this line is UTF-8 but the file is CP932 (Shift_JIS)" in problem.message


def test_a_cp932_line_in_a_utf8_file_is_refused() -> None:
    data = ("email,company\r\n" + _rows_text(4)).encode() + "x@example.jp,髙橋\r\n".encode("cp932")

    [problem] = problems_of(data)

    assert problem.line == 6
    assert "this line is CP932 (Shift_JIS) but the file is UTF-8" in problem.message


def test_a_bom_makes_the_file_utf8_whatever_most_lines_are() -> None:
    data = b"\xef\xbb\xbf" + (JA_HEADER + _rows_text(3)).encode("cp932") + "x@example.jp,海外\r\n".encode()

    problems = problems_of(data)

    assert [problem.line for problem in problems] == [1, 2, 3, 4]
    assert all("is CP932 (Shift_JIS) but the file is UTF-8" in problem.message for problem in problems)


def test_cp932_that_happens_to_be_valid_utf8_is_told_apart_from_a_utf8_line() -> None:
    """燿子, ﾃｽ and ﾐｱ in CP932 are valid UTF-8 (U+080E q, ý, б), but no roster typed in UTF-8 reads so."""
    lucky = "a@example.jp,燿子,ﾃｽ\r\nb@example.jp,ﾐｱ,\r\n".encode("cp932")
    cp932 = (JA_HEADER + "c@example.jp,株式会社\r\n").encode("cp932") + lucky
    utf8_line = "d@example.jp,株式会社ミュラー\r\n".encode()
    assert lucky.decode("utf-8")

    [problem] = problems_of(cp932 + utf8_line)

    assert problem.line == 5
    assert "this line is UTF-8 but the file is CP932" in problem.message
    assert [(row.company, row.name) for row in parse_roster(cp932)] == [
        ("株式会社", ""),
        ("燿子", "ﾃｽ"),
        ("ﾐｱ", ""),
    ]


# Japanese text that a UTF-8 line can carry and a CP932 file could have held: kana, kanji, full-width and
# half-width forms, all of three UTF-8 bytes, as Japanese text is; without the three that CP932 reads back
# as other characters (〜 comes back as ～).
_JAPANESE = st.characters(
    codec="cp932", min_codepoint=0x800, exclude_categories=["Co", "Zs"], exclude_characters="‖−〜"
)


@settings(max_examples=200)
@given(
    names=st.lists(st.text(_JAPANESE, min_size=1, max_size=12), min_size=2, max_size=8),
    data=st.data(),
)
def test_any_one_utf8_line_among_cp932_lines_is_named(names: list[str], data: st.DataObject) -> None:
    """The CP932 lines start their Japanese with 株 (0x8A, which starts no UTF-8 character): never UTF-8."""
    lines = [JA_HEADER.encode("cp932")]
    lines += [f"u{number}@example.jp,株{name}\r\n".encode("cp932") for number, name in enumerate(names)]
    assert [row.company for row in parse_roster(b"".join(lines))] == [f"株{name}" for name in names]
    index = data.draw(st.integers(min_value=1, max_value=len(names)), label="line made UTF-8")
    lines[index] = f"u{index}@example.jp,{names[index - 1]}\r\n".encode()

    [problem] = problems_of(b"".join(lines))

    assert problem.line == index + 1
    assert "this line is UTF-8 but the file is CP932" in problem.message


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\r\n\r\n", b",,\r\n"])
def test_empty_file(data: bytes) -> None:
    [problem] = problems_of(data)
    assert problem.line == 1
    assert "empty" in problem.message


def test_missing_email_column_lists_accepted_names() -> None:
    [problem] = problems_of("会社名,氏名\r\nACME,Taro\r\n".encode())
    assert problem.line == 1
    for accepted in ("email", "e-mail", "mail", "メールアドレス", "メール"):
        assert accepted in problem.message


def test_two_email_columns_are_ambiguous() -> None:
    [problem] = problems_of("email,メール\r\na@example.jp,b@example.jp\r\n".encode())
    assert problem.line == 1
    assert "more than one email column" in problem.message


def test_extra_columns_are_ignored_and_optional_columns_may_be_missing() -> None:
    text = "部署,mail,備考\r\n営業部,a@example.jp,VIP\r\nshort\r\n"
    problems = problems_of(text.encode())
    assert [problem.line for problem in problems] == [3]
    text = "部署,mail,備考\r\n営業部,a@example.jp,VIP\r\n"
    assert parse_roster(text.encode()) == [RosterRow(line=2, email="a@example.jp", company="", name="")]


def test_all_problems_are_reported_with_their_lines() -> None:
    text = "email,company\r\na@example.jp,A\r\nnot-an-address,B\r\nb@example.jp,C\r\nA@EXAMPLE.JP,D\r\n"
    problems = problems_of(text.encode())
    assert [problem.line for problem in problems] == [3, 5]
    assert "'not-an-address'" in problems[0].message
    assert "duplicate of line 2" in problems[1].message
    assert "line 3:" in str(RosterError(problems))


def test_control_characters_in_company_are_neutralised() -> None:
    text = 'email,company,name\r\na@example.jp,"ACME\r\nBcc: x@y.jp\t Ltd\x01",  Taro \x0b Yamada \r\n'
    [row] = parse_roster(text.encode())
    assert row.company == "ACME Bcc: x@y.jp Ltd"
    assert row.name == "Taro Yamada"


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("ACME\u202e Ltd", "ACME Ltd"),  # RIGHT-TO-LEFT OVERRIDE: removed
        ("\u202aAC\u202bME\u202c \u202dLtd", "ACME Ltd"),  # embeddings and overrides
        ("\u2066山田\u2069 \u2067太郎\u2068", "山田 太郎"),  # isolates
        ("山\u200b田\u200c\u200d太\u200e郎\u200f", "山田太郎"),  # zero-width characters and marks
        ("\ufeffACME\ufeff商事", "ACME商事"),  # a BOM inside a value
        ("ACME\x85Ltd\x9b\u200b", "ACME Ltd"),  # C1 controls become spaces, as C0 ones do
        ("ACME\u2028Ltd\u2029", "ACME Ltd"),  # line and paragraph separators
        ("山田　\u200b太郎", "山田　太郎"),  # the full-width space stays
    ],
)
def test_invisible_characters_in_names_and_companies_are_removed(raw: str, cleaned: str) -> None:
    assert clean_text(raw) == cleaned
    [row] = parse_roster(f"email,company,name\r\na@example.jp,{raw},{raw}\r\n".encode())
    assert (row.company, row.name) == (cleaned, cleaned)


@given(st.text())
def test_cleaned_text_has_nothing_hidden_and_stays_as_it_is(raw: str) -> None:
    cleaned = clean_text(raw)
    assert not [char for char in cleaned if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")]
    assert clean_text(cleaned) == cleaned


@pytest.mark.parametrize("hidden", ["\u202e", "\u2066", "\u200b", "\u200f", "\ufeff", "\x85", "\x1b"])
def test_an_address_with_a_hidden_character_is_a_problem_of_its_line(hidden: str) -> None:
    text = f"email,company\r\na@example.jp,A\r\nb{hidden}@example.jp,B\r\n"

    [problem] = problems_of(text.encode())

    assert problem.line == 3
    assert f"U+{ord(hidden):04X}" in problem.message
    assert hidden not in problem.message  # shown escaped, so it cannot reorder the message itself


def test_the_import_takes_off_exactly_the_exports_formula_guard() -> None:
    guarded = {
        "'=SUM(A1)": "=SUM(A1)",
        "'+81 3": "+81 3",
        "'-": "-",
        "'@home": "@home",
        "'\tx": "\tx",
        "'\r": "\r",
    }
    guarded_apostrophes = {
        "''=x": "'=x",
        "'''-": "''-",
    }  # the export guarded text that starts with apostrophes
    left_alone = {"'abc": "'abc", "'": "'", "''": "''", "=x": "=x", " '=x": " '=x", "": ""}
    for cells in (guarded, guarded_apostrophes, left_alone):
        assert {cell: unguard_formula(cell) for cell in cells} == cells


@given(st.text())
def test_guarding_then_unguarding_gives_the_text_back(text: str) -> None:
    guarded = guard_formula(text)
    assert not guarded.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert unguard_formula(guarded) == text


def test_guarded_cells_in_a_roster_are_read_as_the_text_they_guard() -> None:
    text = "email,company,name\r\n'=calc@example.jp,'+81 商事,'-\r\n'plain@example.jp,'Quoted,''=x\r\n"

    rows = parse_roster(text.encode())

    assert [(row.email, row.company, row.name) for row in rows] == [
        ("=calc@example.jp", "+81 商事", "-"),
        ("'plain@example.jp", "'Quoted", "'=x"),
    ]


def test_quoted_newlines_keep_later_line_numbers_physical() -> None:
    text = 'email,company\r\na@example.jp,"two\r\nlines"\r\n\r\nbad,C\r\n'
    problems = problems_of(text.encode())
    assert [problem.line for problem in problems] == [5]


def test_blank_lines_are_skipped() -> None:
    text = "email\r\n\r\na@example.jp\r\n,\r\nb@example.jp\r\n"
    assert [(row.line, row.email) for row in parse_roster(text.encode())] == [
        (3, "a@example.jp"),
        (5, "b@example.jp"),
    ]


def test_long_company_and_name_are_problems() -> None:
    text = f"email,company,name\r\na@example.jp,{'社' * 200},{'名' * 201}\r\n"
    [problem] = problems_of(text.encode())
    assert problem.line == 2
    assert "name" in problem.message


def test_empty_email_is_a_problem() -> None:
    [problem] = problems_of(b"email,company\r\n,ACME\r\n")
    assert (problem.line, problem.message) == (2, "the email address is empty")


def test_too_many_rows() -> None:
    text = "email\r\n" + "".join(f"u{i}@example.jp\r\n" for i in range(4))
    assert len(parse_roster(text.encode(), max_rows=4)) == 4
    [problem] = problems_of(text.encode(), max_rows=3)
    assert problem.line == 5
    assert "more than 3 rows" in problem.message


@pytest.mark.parametrize(
    "text",
    [
        'email,company\r\na@example.jp,"unclosed\r\nb@example.jp,B\r\n',
        'email,company\r\na@example.jp,"quoted"junk\r\nb@example.jp,B\r\n',
    ],
)
def test_a_broken_quote_stops_the_file_instead_of_swallowing_rows(text: str) -> None:
    [problem] = problems_of(text.encode())
    assert problem.line == 2
    assert "cannot be read" in problem.message


def test_a_field_over_the_csv_size_limit_is_a_problem() -> None:
    text = f"email,company\r\na@example.jp,A\r\nbad,B\r\nb@example.jp,{'x' * 200_000}\r\n"
    problems = problems_of(text.encode())
    assert [problem.line for problem in problems] == [3, 4]


def test_a_charset_column_is_read_in_any_case_and_width_and_empty_means_no_preference() -> None:
    text = (
        "メールアドレス,文字コード\r\n"
        "a@example.jp,ISO-2022-JP\r\n"
        "b@example.jp,\r\n"
        "c@example.jp, ｕｔｆ－８ \r\n"  # as typed with the IME on: full width, and a space or two
    )
    assert parse_roster(text.encode("cp932")) == [
        RosterRow(line=2, email="a@example.jp", company="", name="", charset="iso-2022-jp"),
        RosterRow(line=3, email="b@example.jp", company="", name="", charset=None),
        RosterRow(line=4, email="c@example.jp", company="", name="", charset="utf-8"),
    ]


def test_a_charset_that_is_neither_is_a_problem_of_its_line() -> None:
    text = "email,charset\r\na@example.jp,iso-2022-jp\r\nb@example.jp,Shift_JIS\r\nc@example.jp,utf8\r\n"
    problems = problems_of(text.encode())
    assert [problem.line for problem in problems] == [3, 4]
    assert problems[0].message == (
        "the charset must be utf-8 or iso-2022-jp, or empty for no preference; got 'Shift_JIS'"
    )
