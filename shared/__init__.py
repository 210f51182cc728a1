"""Outreach's package, shared by every deployed function. One subpackage per stage:

core        what every function uses: configuration, database and named queries, the HTTP
            layer, logs, user tokens, the row work queue and how a stage is triggered
campaigns   creating a campaign; its settings (ai_settings) and their rules
discovery   run_search and scrape_url: search providers, the safe fetcher, contact extraction
drafting    draft_message: the LLM client, the template drafter, the checks
sending     send_due: claiming, which mailbox sends, composing, transports, the sending window
mailboxes   the organization's own mailboxes: credentials from Vault, their servers' rules, health
inbound     unsubscribe_webhook (tokens, the page, SNS notifications, events) and sync_mailboxes
            (reading the mailboxes over IMAP, classifying replies, bounces, automatic replies)
"""
