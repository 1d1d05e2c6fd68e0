"""Apps the emulator runs: the registry, the context an app sees, warm workers, built-ins."""
