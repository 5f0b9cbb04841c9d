"""Exports: reports and DAW sessions."""
