"""The worker's journal: what it says survives the process, and a torn last line is ignored."""

from __future__ import annotations

from pathlib import Path

from outreach.journal import Journal, JournalEntry, read_journal


def test_the_last_word_on_each_delivery_wins(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "w.jsonl")
    journal.started(1, "<m1@example.jp>")
    journal.finished(1, 250, "2.0.0 Ok:\tqueued\r\nas 1", "<m1@example.jp>")
    journal.started(2, "<m2@example.jp>")
    journal.finished(3, None, "", "<m3@example.jp>")
    journal.close()

    assert read_journal(tmp_path / "w.jsonl") == {
        1: JournalEntry(1, 250, "2.0.0 Ok: queued  as 1", "<m1@example.jp>"),
        2: JournalEntry(2, None, "", "<m2@example.jp>"),
        3: JournalEntry(3, None, "", "<m3@example.jp>"),
    }


def test_a_line_torn_by_a_kill_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "w.jsonl"
    journal = Journal(path)
    journal.started(7, "<m7@example.jp>")
    journal.close()
    with path.open("ab") as handle:
        handle.write(b"F\t7\t250\t<m7@example.jp>\t2.0.0 O")  # the kill came mid-write

    assert read_journal(path) == {7: JournalEntry(7, None, "", "<m7@example.jp>")}


def test_clear_keeps_what_is_in_flight_and_a_name_is_held_once(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "w.jsonl")
    assert journal.lock()
    journal.started(1, "<m1@example.jp>")
    journal.finished(1, 250, "ok", "<m1@example.jp>")
    journal.clear(keep={2: "<m2@example.jp>"})
    journal.started(3, "<m3@example.jp>")

    assert set(read_journal(tmp_path / "w.jsonl")) == {2, 3}
    rival = Journal(tmp_path / "w.jsonl")
    assert not rival.lock()
    rival.close()
    journal.close()
    again = Journal(tmp_path / "w.jsonl")
    assert again.lock()
    again.close()


def test_a_refusal_before_the_data_keeps_its_stage(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "w.journal")
    journal.started(1, "<m1>")
    journal.finished(1, 550, "5.1.8 bad sender domain", "<m1>", "MAIL")
    journal.started(2, "<m2>")
    journal.finished(2, 250, "2.0.0 Ok", "<m2>")
    journal.close()

    entries = read_journal(tmp_path / "w.journal")

    assert (entries[1].code, entries[1].stage) == (550, "MAIL")
    assert (entries[2].code, entries[2].stage) == (250, "end-of-data")
