"""Test helpers that ship with posed, for posed's own backends and third-party ones.

`posed.testing.backend_conformance` checks a backend plugin against the contract
in `posed.backend`. Nothing here imports a runtime until a check runs.
"""
