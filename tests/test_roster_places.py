"""The roster's `countries` column: read (names in Japanese or English, or codes), refused line by line with
nothing imported, given to subscribers who chose none, exported and read back; the console's roster list and
upload, and the CLI's `subscribers import` and `subscribers add --countries`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from outreach.cli import cli
from outreach.config import Settings
from outreach.db import Database
from outreach.errors import RosterError
from outreach.models import ConsentEvent, Subscriber
from outreach.staff.models import StaffRole
from subscribers.directory import add_subscriber, organization_or_none
from subscribers.places import places_of
from subscribers.roster import parse_roster
from tests.conftest import snapshot
from tests.console_support import Console, add_user, served
from tests.test_console_http import logged_in
from tests.test_console_rosters import EDITOR, JETRO, unchanged, upload


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def console(seeded_db: Database, settings: Settings) -> Iterator[Console]:
    """JETRO's editor, and one subscriber of JETRO's with no places yet."""
    add_user(seeded_db, EDITOR)
    add_user(seeded_db, StaffRole.STAFF)
    with seeded_db.session() as session:
        add_subscriber(session, "a@example.jp", organization=organization_or_none(session, "jetro"))
    with served(seeded_db, settings) as running:
        yield running


def tokens(db: Database, email: str) -> list[str]:
    with db.session() as session:
        found = session.scalar(select(Subscriber).where(Subscriber.email == email))
        assert found is not None, email
        return [place.token for place in places_of(session, found.id)]


def test_the_column_reads_names_in_either_language_and_codes_under_any_of_its_headers() -> None:
    for header in ("countries", "国・地域", "Countries", "事業を行っている国・地域"):
        data = f"email,{header}\r\na@example.jp,タイ;Viet Nam、0044\r\nb@example.jp,\r\n".encode()
        first, second = parse_roster(data)
        assert [place.token for place in first.places] == ["10-0066", "10-0084", "42-0044"], header
        assert second.places == ()


def test_unknown_names_are_refused_with_their_lines_and_every_problem_listed() -> None:
    data = "email,国・地域\r\na@example.jp,タイ\r\nb@example.jp,ナルニア;タイ\r\nc@example.jp,Atlantis\r\n"
    with pytest.raises(RosterError) as caught:
        parse_roster(data.encode())
    assert [str(problem) for problem in caught.value.problems] == [
        "line 3: unknown country or region: ナルニア",
        "line 4: unknown country or region: Atlantis",
    ]


def test_a_cell_guarded_against_excel_formulas_is_read_without_its_guard() -> None:
    with pytest.raises(RosterError) as caught:
        parse_roster(b"email,countries\r\na@example.jp,'-Thailand\r\n")
    # the apostrophe the export would add comes off; what is left is no name, refused as typed
    assert [str(problem) for problem in caught.value.problems] == [
        "line 2: unknown country or region: -Thailand"
    ]


@pytest.fixture
def jetro_roster(env: dict[str, str], seeded_db: Database) -> Database:
    assert (
        run("subscribers", "add", "chose@example.jp", "--org", "jetro", "--countries", "欧州").exit_code == 0
    )
    assert run("subscribers", "add", "none@example.jp", "--org", "jetro").exit_code == 0
    return seeded_db


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_cli_import_gives_places_to_new_and_placeless_subscribers_only(
    jetro_roster: Database, tmp_path: Path
) -> None:
    path = _write(
        tmp_path,
        "email,countries\r\n"
        "new@example.jp,タイ;ベトナム\r\n"
        "chose@example.jp,タイ\r\n"  # chose 欧州 themselves: kept
        "none@example.jp,Kenya\r\n",
    )
    result = run("subscribers", "import", str(path), "--org", "jetro", "--consent", "vouched")

    assert result.exit_code == 0, result.output
    assert tokens(jetro_roster, "new@example.jp") == ["10-0066", "10-0084"]
    assert tokens(jetro_roster, "chose@example.jp") == ["42"]
    assert tokens(jetro_roster, "none@example.jp") == ["60-0254"]
    with jetro_roster.session() as session:
        sources = session.execute(
            select(ConsentEvent.email, ConsentEvent.source)
            .where(ConsentEvent.action == "places_changed")
            .order_by(ConsentEvent.id)
        ).all()
    assert sorted(tuple(row) for row in sources) == [
        ("chose@example.jp", "staff"),
        ("new@example.jp", "import"),
        ("none@example.jp", "import"),
    ]


def test_one_unknown_name_refuses_the_whole_file_and_nothing_is_written(
    jetro_roster: Database, tmp_path: Path
) -> None:
    path = _write(tmp_path, "email,countries\r\nnew@example.jp,タイ\r\nother@example.jp,ナルニア\r\n")
    before = snapshot(jetro_roster)

    result = CliRunner().invoke(cli, ["subscribers", "import", str(path), "--org", "jetro"])

    assert result.exit_code == 2
    assert "line 3: unknown country or region: ナルニア" in result.output
    assert "Traceback" not in result.output
    assert snapshot(jetro_roster) == before


def test_subscribers_add_refuses_an_unknown_country_in_one_line_and_adds_nobody(
    jetro_roster: Database,
) -> None:
    before = snapshot(jetro_roster)
    result = CliRunner().invoke(cli, ["subscribers", "add", "x@example.jp", "--countries", "タイ;Narnia"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].endswith("unknown country or region: Narnia")
    assert snapshot(jetro_roster) == before


@pytest.mark.parametrize("language", ["ja", "en"])
def test_an_export_names_the_places_in_its_language_and_reads_back(
    jetro_roster: Database, tmp_path: Path, language: str
) -> None:
    out = f"jetro-{language}.csv"
    assert run("subscribers", "export", "--org", "jetro", "--lang", language, "--out", out).exit_code == 0
    data = (tmp_path / out).read_bytes()
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[1].startswith("chose@example.jp,")
    assert lines[1].endswith(",欧州" if language == "ja" else ",Europe")
    rows = {row.email: [place.token for place in row.places] for row in parse_roster(data)}
    assert rows == {"chose@example.jp": ["42"], "none@example.jp": []}


def test_the_consoles_list_shows_each_subscribers_places_in_the_pages_language(console: Console) -> None:
    roster = "email,国・地域\r\na@example.jp,タイ;中東\r\nnew@example.jp,英国\r\n"
    with logged_in(console, EDITOR) as client:
        answer = upload(client, roster.encode())
        assert answer.status_code == 303
        japanese = client.get(JETRO)
        english = client.get(f"/en{JETRO}")
        with console.db.session() as session:
            chose = session.scalars(select(Subscriber.id).where(Subscriber.email == "a@example.jp")).one()
        one = client.get(f"{JETRO}/subscribers/{chose}")
        one_en = client.get(f"/en{JETRO}/subscribers/{chose}")
    assert '<td class="places">タイ、中東</td>' in japanese.text
    assert '<td class="places">英国</td>' in japanese.text
    assert '<td class="places">Thailand, Middle East</td>' in english.text
    assert "事業展開先の国・地域" in japanese.text
    assert "<dt>事業展開先の国・地域</dt><dd>タイ、中東</dd>" in one.text
    assert "<dt>Countries and regions of business</dt><dd>Thailand, Middle East</dd>" in one_en.text


def test_the_consoles_upload_lists_an_unknown_name_with_its_line_and_writes_nothing(console: Console) -> None:
    with logged_in(console, EDITOR) as client:
        before = snapshot(console.db)
        answer = upload(client, "email,国・地域\r\nnew@example.jp,タイ、ナルニア\r\n".encode())
        english = upload(client, b"email,countries\r\nnew@example.jp,Narnia\r\n", url=f"/en{JETRO}")
    assert answer.status_code == 400
    assert "2行目" in answer.text
    assert "国・地域「ナルニア」が見つかりません。" in answer.text
    assert english.status_code == 400
    assert "Unknown country or region: Narnia." in english.text
    assert unchanged(console.db, before)
