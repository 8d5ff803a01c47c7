from django.shortcuts import redirect

from ..http import client_view


@client_view
def client_home(request, handle):
    """/c/<client>/: the database's memories (after the same role check as every page of it)."""
    return redirect("memory_list", handle.client.slug)
