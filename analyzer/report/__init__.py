"""Presenting results: plain data first (JSON), then renderers (terminal). Nothing here measures."""
