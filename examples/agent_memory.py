"""Conversation memory: keep a chat's id, resume the conversation later in a new client.

Each message to an agent continues its chat, and the server keeps the whole conversation: the
model gets every earlier message as context. Save `agent.chat_id` (a database, a cookie, a
file) and pass it back as `client.agent(..., chat_id=...)`, from another process or days later.
The emulator's offline model does not understand the conversation; a real LLM answers "Ada".
"""

from inferencesh.local import Emulator, running

LLM = "infsh/claude-haiku-45@latest"

with running(Emulator()) as server:
    with server.client() as client:  # a first session
        agent = client.agent(core_app=LLM, name="notes")
        agent.send_message("My name is Ada and I like tide pools.")
        saved = agent.chat_id  # store it wherever the conversation should live
    print(f"saved chat {saved}")

    with server.client() as client:  # later: another client, another process...
        agent = client.agent(core_app=LLM, name="notes", chat_id=saved)
        reply = agent.send_message("What is my name?")
        print(f"resumed in the same chat: {reply.chat_id == saved}")
        chat = agent.get_chat()  # the conversation the model sees
        for message in chat.chat_messages:
            print(f"  {message.role}: {message.text}")

        agent.reset()  # the next message starts a new conversation
        fresh = agent.send_message("Hello again.")
        print(f"after reset(), a new chat: {fresh.chat_id != saved}")
