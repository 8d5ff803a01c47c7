"""Client databases as the tests register them."""
from django.contrib.auth import get_user_model

from memories.models import ClientDatabase, Membership


def register_client(slug, path, name=None):
    """A client database at path, where every existing user is an editor (tests log in as alice)."""
    client = ClientDatabase.objects.create(slug=slug, name=name or slug, path=str(path))
    for user in get_user_model().objects.all():
        Membership.objects.create(user=user, client=client, role=Membership.EDITOR)
    return client
