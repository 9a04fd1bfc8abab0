"""``/v1/tokens`` (admin): create, list, revoke."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select

from vifbind.contract.api import TokenCreate, TokenView
from vifbind.errors import NotFound
from vifbind.service import auth
from vifbind.service.api.deps import Caller, State, forget_tokens
from vifbind.service.auth import Action
from vifbind.service.storage.tables import TokenRow

router = APIRouter(prefix="/v1/tokens", tags=["tokens"])


def _view(row: TokenRow, token: str | None = None) -> TokenView:
    return TokenView(
        id=row.id,
        role=row.role,
        host=row.host,
        name=row.name,
        created_at=row.created_at,
        token=token,
    )


@router.post("", status_code=status.HTTP_201_CREATED)
def create_token(body: TokenCreate, state: State, caller: Caller) -> TokenView:
    """A new token; its secret is in this answer only."""
    caller.allow(Action.MANAGE_TOKENS)
    with state.write() as tx:
        token, row = auth.create_token(tx.session, body.role, body.host, body.name, tx.now)
    return _view(row, token)


@router.get("")
def list_tokens(state: State, caller: Caller) -> list[TokenView]:
    """Every token's metadata (never a secret)."""
    caller.allow(Action.MANAGE_TOKENS)
    with state.db.read() as session:
        rows = session.execute(select(TokenRow).order_by(TokenRow.created_at)).scalars()
        return [_view(r) for r in rows]


@router.delete("/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: str, state: State, caller: Caller) -> None:
    """Revoke a token at once (in this process; other replicas within seconds)."""
    caller.allow(Action.MANAGE_TOKENS)
    with state.write() as tx:
        row = tx.session.get(TokenRow, token_id)
        if row is None:
            raise NotFound(f"token {token_id} does not exist", field="token_id")
        tx.session.delete(row)
    forget_tokens()
