"""Faults, each registering its undo in the ledger before it acts: cordon, drain, kill (and the AWS outage in
``aws/``); ``facade.Chaos`` is what tests get; ``ledger`` and ``lock`` make runs safe; ``target`` validates
zones; ``dry_run`` lists what a fault would touch."""
