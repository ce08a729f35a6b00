"""Questionnaires: the catalogue served to enterprises, and the author CLI (``cli.py``)."""
