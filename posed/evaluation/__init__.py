"""Scoring posed's events against labelled clips (`posed evaluate`)."""
