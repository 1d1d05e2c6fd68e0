"""The async client (asyncio and trio, through anyio)."""
