"""Staff users of the console: passwords, users and roles, sessions, and the audit log of what they did."""
