"""The organization's own mailboxes: their credentials, the rules for their servers, and their
health. send_due sends through them; sync_mailboxes reads what comes back."""
