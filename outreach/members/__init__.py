"""The member organizations' own side: their profile (greeting, contact, footer), the forward kit, what they
report forwarding, and the monthly reach report they may receive."""
