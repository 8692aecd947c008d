"""The one error a refused action raises, whatever app refuses it."""


class ActionRefused(Exception):
    """The action is not allowed now; `message` says why, in words for the user.

    Services raise it through the app's rulebook (`rules.require(...)`, core.rules.Rulebook);
    views show the message next to what the user tried (see core.views.run_action), sweeps count
    the row as no longer due.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
