"""`make bench`: outreach's delivery engine against Postfix's smtp-sink, beside the naive way and smtp-source."""
