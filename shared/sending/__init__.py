"""send_due: claiming due messages, composing them, the transports (SMTP, SES, files) and the
sending window."""
