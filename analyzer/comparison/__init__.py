"""Comparison with references and genre profiles: metric statistics, profiles, album consistency."""
