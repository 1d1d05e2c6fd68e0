"""A parallel fan-out: many chats at once, at most four at a time, with the async client.

Runs on the local emulator (offline model). Against the real API, use `async_inference()`.
"""

import anyio

from inferencesh.local import Emulator, running

LLM = "infsh/claude-haiku-45@latest"
CITIES = ["Paris", "Oslo", "Lima", "Kyoto", "Cairo", "Perth", "Quito", "Riga"]


async def main() -> None:
    with running(Emulator()) as server:
        async with server.async_client() as client:
            limit = anyio.CapacityLimiter(4)  # chats in flight at once
            answers: dict[str, str] = {}

            async def ask(city: str) -> None:
                async with limit:
                    agent = client.agent(core_app=LLM, name=f"guide-{city}")
                    answers[city] = (await agent.send_message(f"One fact about {city}")).text

            async with anyio.create_task_group() as group:
                for city in CITIES:
                    group.start_soon(ask, city)
            for city in CITIES:
                print(f"{city}: {answers[city]}")


anyio.run(main)
