"""Tests for subscribers.roster: encodings, headers, line-numbered problems."""

from __future__ import annotations

import pytest

from outreach.errors import RosterError, RosterProblem
from subscribers.roster import RosterRow, parse_roster

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
        b"email,company\r\na@example.jp,Caf\xe9\r\n",  # Latin-1: 0xE9 then CR is no CP932 pair
        b"email,name\r\na@example.jp,M\xfcller\r\n",  # Latin-1: 0xFC 0x6C is unassigned in CP932
        b"email\r\n\x80\xa0\xfd@example.jp\r\n",  # bytes that no Shift_JIS text has
        "email\r\na@example.jp\r\n".encode("utf-16-le"),  # UTF-16 without BOM: ASCII with NUL bytes
    ],
)
def test_neither_utf8_nor_cp932(data: bytes) -> None:
    [problem] = problems_of(data)
    assert problem.line == 1
    assert "neither UTF-8 nor Shift_JIS/CP932" in problem.message


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
