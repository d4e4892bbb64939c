"""Typed dependencies shared by the routers (resources live on `app.state`)."""

from typing import Annotated

from fastapi import Depends, Request

from channels.conversation import ConversationService
from channels.rasa_client import RasaClient
from channels.settings import ChannelSettings
from knowledge.search import Retriever
from participation.service import ParticipationService


def _settings(request: Request) -> ChannelSettings:
    settings: ChannelSettings = request.app.state.settings
    return settings


def _rasa(request: Request) -> RasaClient:
    client: RasaClient = request.app.state.rasa
    return client


def _conversation(request: Request) -> ConversationService:
    service: ConversationService = request.app.state.conversation
    return service


SettingsDep = Annotated[ChannelSettings, Depends(_settings)]
RasaDep = Annotated[RasaClient, Depends(_rasa)]
ConversationDep = Annotated[ConversationService, Depends(_conversation)]


# --- search (channels/api/search.py) ---------------------------------------------------
def _retriever(request: Request) -> Retriever:
    # Created in the lifespan without loading anything; loads the index on first use.
    retriever: Retriever = request.app.state.retriever
    return retriever


RetrieverDep = Annotated[Retriever, Depends(_retriever)]
# --- end search ------------------------------------------------------------------------


# --- participation (feedback, privacy, notices, admin) ---------------------------------
def _participation(request: Request) -> ParticipationService:
    # Created in the lifespan; its engine connects (and migrates) on first use.
    service: ParticipationService = request.app.state.participation
    return service


ParticipationDep = Annotated[ParticipationService, Depends(_participation)]
# --- end participation -----------------------------------------------------------------
