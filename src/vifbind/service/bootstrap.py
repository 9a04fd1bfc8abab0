"""First start: the admin token file in the state directory."""

from __future__ import annotations

import os
import stat
import uuid
from pathlib import Path

from vifbind.service import auth
from vifbind.service.settings import ADMIN_TOKEN_FILE
from vifbind.service.storage.database import Database
from vifbind.service.storage.tables import TokenRow


def ensure_admin_token(db: Database, state_dir: Path) -> tuple[Path, bool]:
    """Make sure ``state_dir/admin.token`` holds an admin token the database knows, readable by
    its owner only; returns its path and whether it was created now."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = state_dir / ADMIN_TOKEN_FILE
    if path.exists():
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(0o600)
        token = path.read_text().strip()
        with db.read() as session:
            known = auth.lookup(session, token)
        if known is None:
            # A new database behind an old state directory: adopt the file's token.
            with db.write() as tx:
                tx.session.add(
                    TokenRow(
                        id=str(uuid.uuid4()),
                        digest=auth.digest(token),
                        role="admin",
                        host=None,
                        name=ADMIN_TOKEN_FILE,
                        created_at=tx.now,
                    )
                )
        return path, False
    with db.write() as tx:
        token, _ = auth.create_token(tx.session, "admin", None, ADMIN_TOKEN_FILE, tx.now)
    write_token_file(path, token)
    return path, True


def write_token_file(path: Path, token: str) -> None:
    """Write ``token`` to a new file readable by its owner only. An existing file (or symlink)
    is never written through: ``FileExistsError``."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
