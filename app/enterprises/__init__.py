"""Enterprises: registration, profile and declared facts, and their privacy rights (export,
deletion, contact persons kept for a retention period)."""
