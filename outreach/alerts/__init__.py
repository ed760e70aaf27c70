"""Safety alerts: the ministry's overseas-safety open data (海外安全情報オープンデータ), read as it
is published, stored once per entry, and sent at once or in the next regular issue to the subscribers
whose countries it concerns."""
