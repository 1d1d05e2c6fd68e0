"""The sans-IO core: builds requests and reads responses, never sends anything.

Both the sync and the async client drive the same functions here, so a decision (what to
retry, how to merge a stream line, when to reconnect) is written and tested once.
"""
