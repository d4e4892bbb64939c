"""Citizen participation data: proposals, subscriptions, reminders, tickets, analytics.

Imports only :mod:`knowledge`; used by the action server and the FastAPI app through
:class:`participation.service.ParticipationService`.
"""
