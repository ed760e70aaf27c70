"""`make bench`: outreach against smtp-sink beside smtp-source and the naive way, on SQLite and PostgreSQL."""
