"""The audit actor of a write made with an API key: the key's creator, via the key's name.

services._entry reads ``on_behalf_of`` (the user the audit entry names), ``api_key`` and
``key_name``; the history then shows "<creator> via key <name>".
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class KeyActor:
    api_key: object

    @property
    def on_behalf_of(self):
        return self.api_key.created_by

    @property
    def key_name(self):
        return self.api_key.name

    # Services check is_authenticated on a user; a key actor stands for its creator.
    is_authenticated = True

    def __str__(self):
        creator = self.api_key.created_by
        return f"via key {self.api_key.name} of {creator.get_username() if creator else 'a removed user'}"


def actor_for(key):
    return KeyActor(key)
