"""Staff accounts: invitations, passwords, sessions (issue 19)."""
