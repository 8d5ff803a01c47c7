"""The agents room's raw SQL on Django's tables; every statement is parameterised.

The column lists come from the models' fields, so a migration that adds a field changes the
statements with it (rows.py turns each row back into model instances, in this order).
"""
from functools import cache

from django.contrib.auth import get_user_model

from ..models import ApiKey, ClientDatabase


def key_models():
    """The models of a key's row, in the order KEY_FOR_* select their columns."""
    return ApiKey, ClientDatabase, get_user_model()


def _columns(model, alias):
    return ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)


@cache
def _key_select():
    key, client, user = key_models()
    return (f"SELECT {_columns(key, 'k')}, {_columns(client, 'c')}, {_columns(user, 'u')} "
            f'FROM "{key._meta.db_table}" k JOIN "{client._meta.db_table}" c ON c."id" = k."client_id" '
            f'LEFT JOIN "{user._meta.db_table}" u ON u."id" = k."created_by_id" ')


def key_for_slug():
    """A key by its hash, with the client database of a URL's slug (not archived) and the key's
    creator. Bind the hash and the slug."""
    return _key_select() + 'WHERE k."hash" = %s AND c."slug" = %s AND NOT c."archived"'


def key_for_client():
    """A key by its hash, of one client database (by id), with it and the key's creator. Bind the
    hash and the client's id."""
    return _key_select() + 'WHERE k."hash" = %s AND k."client_id" = %s'
