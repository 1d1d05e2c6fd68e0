"""What every resource of the emulator shares.

Ids and the clock, JSON, envelopes and problem+json errors, cursor listing, stream topics,
change notification, auth and faults. Imports point one way: `core` imports no other part
of the emulator.
"""
