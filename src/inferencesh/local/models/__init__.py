"""Models of the emulator's agents: the one interface, scripted, offline and OpenAI-compatible."""
