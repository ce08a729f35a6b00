"""E-mail: an outbox written in the transaction of the change a message announces, delivered
over SMTP by the background worker (logged instead where no SMTP server is configured)."""
