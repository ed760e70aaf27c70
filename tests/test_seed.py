"""Seeding the network's data files into real databases, directly and through `outreach seed [--data DIR]`."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import select

from outreach.cli import cli
from outreach.content import MeetingKey, add_meeting
from outreach.db import Database
from outreach.models import Meeting, Organization, Promotion
from outreach.network import DATA_DIR, load_network, packaged_network
from outreach.seed import SeedRow, seed_network
from tests.conftest import snapshot

JCCI_GREETING = 'greeting_en = "The Japan Chamber of Commerce and Industry is passing on'
FIXED_GREETING = 'greeting_en = "The Japan Chamber of Commerce and Industry (JCCI) is passing on'


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _edited_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    """A maintainer's copy of the packaged data, with the first `old` in `file` replaced by `new`."""
    folder = tmp_path / "network-data"
    shutil.copytree(DATA_DIR, folder)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text, old  # the edit must really happen
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


def test_a_first_seed_adds_every_entry_as_the_files_say(db: Database) -> None:
    data = packaged_network()

    with db.session() as session:
        report = seed_network(session)

    assert (report.organizations, report.meetings, report.promotions, report.updated) == (31, 13, 8, 0)
    with db.session() as session:
        organizations = list(session.scalars(select(Organization).order_by(Organization.position)))
        first_plenary = session.scalars(
            select(Meeting).where(Meeting.kind == "plenary", Meeting.number == 1)
        ).one()
        summer = session.scalars(select(Promotion).where(Promotion.slug == "summer-safety-month")).one()
        member_slugs = [organization.slug for organization in data.organizations]
        assert [row.slug for row in organizations] == [data.network.slug, *member_slugs]
        assert organizations[1].greeting_ja == data.organizations[0].greeting_ja
        assert first_plenary.summary_en == data.meetings[0].summary_en
        assert first_plenary.links == [dataclasses.asdict(link) for link in data.meetings[0].links]
        assert summer.yearly
        assert (summer.starts_on, summer.ends_on) == (date(2000, 7, 1), date(2000, 8, 31))


def test_seeding_twice_adds_and_updates_nothing(seeded_db: Database) -> None:
    before = snapshot(seeded_db)

    with seeded_db.session() as session:
        report = seed_network(session)

    assert (report.added, report.updated) == (0, 0)
    assert snapshot(seeded_db) == before


def test_a_fixed_entry_updates_only_its_fields_and_leaves_staff_meetings_alone(
    seeded_db: Database, tmp_path: Path
) -> None:
    folder = _edited_copy(tmp_path, "organizations.toml", JCCI_GREETING, FIXED_GREETING)
    with seeded_db.session() as session:
        staff = add_meeting(
            session, MeetingKey("plenary", 9), held_on=date(2026, 11, 20), format="hybrid",
            summary_ja="第9回本会合の結果", summary_en="",
        )  # fmt: skip
        staff_id = staff.id
    before = snapshot(seeded_db)

    with seeded_db.session() as session:
        report = seed_network(session, load_network(folder))

    assert report.new == ()
    assert report.changed == (SeedRow("organization", "jcci", ("greeting_en",)),)
    after = snapshot(seeded_db)
    assert {name for name in after if after[name] != before[name]} == {"organizations"}
    with seeded_db.session() as session:
        jcci = session.scalars(select(Organization).where(Organization.slug == "jcci")).one()
        assert jcci.greeting_en.startswith("The Japan Chamber of Commerce and Industry (JCCI) is passing on")
        assert session.get(Meeting, staff_id) is not None


def test_an_entry_removed_from_the_files_stays_in_the_database(seeded_db: Database) -> None:
    data = packaged_network()
    fewer = dataclasses.replace(data, promotions=data.promotions[1:])
    before = snapshot(seeded_db)

    with seeded_db.session() as session:
        report = seed_network(session, fewer)

    assert (report.added, report.updated) == (0, 0)
    assert snapshot(seeded_db) == before


def test_cli_seed_from_a_folder_prints_what_it_added_and_updated(
    env: dict[str, str], db: Database, tmp_path: Path
) -> None:
    folder = _edited_copy(tmp_path, "organizations.toml", JCCI_GREETING, FIXED_GREETING)
    first = run("seed")

    again = run("seed", "--data", str(folder))

    assert first.exit_code == 0
    assert first.output.startswith("seeded: 31 organizations, 13 meetings, 8 promotions added, 0 updated\n")
    assert "  added meetings: plenary:1, plenary:2," in first.output
    assert again.exit_code == 0, again.output
    assert again.output.splitlines() == [
        "seeded: 0 organizations, 0 meetings, 0 promotions added, 1 updated",
        "  updated organization jcci: greeting_en",
    ]


def test_cli_seed_with_a_broken_file_exits_2_naming_it_and_writes_nothing(
    env: dict[str, str], db: Database, tmp_path: Path
) -> None:
    # organizations.toml holds a fix the seed would write, but meetings.toml is broken: nothing is written.
    folder = _edited_copy(tmp_path, "organizations.toml", JCCI_GREETING, FIXED_GREETING)
    meetings = folder / "meetings.toml"
    meetings.write_text(
        meetings.read_text(encoding="utf-8").replace("held_on = 2024-01-31", 'held_on = "2024-01-31"'),
        encoding="utf-8",
    )
    assert run("seed").exit_code == 0
    before = snapshot(db)

    result = run("seed", "--data", str(folder))

    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        f"error: {meetings}: [[meetings]] #8 (plenary:8): held_on: must be a TOML date"
    )
    assert snapshot(db) == before


def test_cli_seed_with_a_folder_that_does_not_exist_exits_2(env: dict[str, str], db: Database) -> None:
    before = snapshot(db)

    result = run("seed", "--data", "no-such-folder")

    assert result.exit_code == 2
    assert "no-such-folder" in result.output
    assert snapshot(db) == before
