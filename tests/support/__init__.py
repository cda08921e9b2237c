"""Test support: the real services the suite talks to."""
