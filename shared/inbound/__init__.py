"""What comes back: unsubscribe tokens and page, one-click unsubscribes, SES notifications through
SNS and generic events."""
