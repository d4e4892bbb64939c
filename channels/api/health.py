"""`GET /healthz`: is the gateway up, and can it reach Rasa?"""

from fastapi import APIRouter

from channels.api.deps import RasaDep
from channels.schemas import HealthResponse

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthResponse)
async def healthz(rasa: RasaDep) -> HealthResponse:
    """Answer 200 while the gateway runs; `rasa` says whether Rasa answers."""
    rasa_ok = await rasa.is_healthy()
    return HealthResponse(status="ok", rasa="ok" if rasa_ok else "unavailable")
