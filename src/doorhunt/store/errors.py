"""The store's failure classes; each is an InputError, so the CLI prints one line and exits 2."""

from __future__ import annotations

from doorhunt.errors import InputError


class StoreLockedError(InputError):
    """Another process holds the store's writer lock (the location is the store directory)."""


class StoreBusyError(InputError):
    """Compaction or pruning is already running in another process and did not finish in time."""


class StoreAccessError(InputError):
    """The store directory cannot be created, read or written."""


class StoreQueryError(InputError):
    """A query the store cannot run: a malformed filter, or SQL that is not one SELECT."""


__all__ = ["StoreAccessError", "StoreBusyError", "StoreLockedError", "StoreQueryError"]
