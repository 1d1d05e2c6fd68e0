"""Chats, agent runs, messages, tool invocations and interrupts: state, routes, streams, turns."""
