"""Assistants: (features, session) -> suggestions, one module per mixing task. They never render."""
