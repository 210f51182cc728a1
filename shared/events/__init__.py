"""Signed webhooks to the organization's own tools: the outbox the database's triggers write
(supabase/migrations/…_events.sql), its statements (outbox.sql), the signature (signing.py) and
deliver_events (deliver.py)."""
