"""`make bench`: the delivery engine against smtp-sink, beside the naive way and smtp-source."""
