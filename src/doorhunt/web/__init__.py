"""The triage web UI (`doorhunt ui`): a FastAPI application over doorhunt.investigate and a
static front end of plain ES modules. Run, security model, pages and API: docs/ui.md."""

from __future__ import annotations

from doorhunt.web.app import UiState, create_app
from doorhunt.web.server import ServerPlan, plan, serve

__all__ = ["ServerPlan", "UiState", "create_app", "plan", "serve"]
