"""Imports: reading a file of another source into a client database."""
