"""Subsidy catalogue: validation CLI (matching itself lives in ``scoring.subsidies``)."""
