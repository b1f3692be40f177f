"""Errors a user can cause and fix; the CLI prints them without a traceback."""


class UserError(Exception):
    """A problem in the user's input (stack file, arguments); the message says what and how to fix it."""
