"""Agents on the emulator: templates, and the agent side of `Emulator`'s API."""
