"""Infrastructure: the only package that opens a database connection.

Slices speak to a ``Session`` (reads) or a ``UnitOfWork`` (a transaction) in portable SQL; every
dialect difference lives in ``dialects.py`` and in the store implementation, so a PostgreSQL store
can be added without touching the slices (docs/decisions/0001-storage-without-an-orm.md).
"""

from cxlens.storage.store import Session, Store, UnitOfWork

__all__ = ["Session", "Store", "UnitOfWork"]
