"""Sync: a client database kept in Turso, replicas, the outbox and the primary."""
