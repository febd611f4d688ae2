"""The pure core of NOP-IC: certificate states, transitions, screening rules and numbering.

Imports nothing of ours and no framework, so every rule is testable without Temporal or a database.
"""
