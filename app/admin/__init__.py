"""The admin console: one place for what admins run — the verification queue, access requests,
API clients and keys, webhook approvals (with the addresses a URL resolves to), users, the audit
trail and the mail outbox. Pages only; the work is done by each domain's service."""
