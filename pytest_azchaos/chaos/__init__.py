"""Faults, each registering its undo in the ledger before it acts: cordon, drain, kill, outage."""
