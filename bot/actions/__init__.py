"""Custom actions, loaded by the action server (`python -m rasa_sdk --actions bot.actions`)."""

from participation.privacy import install_record_masking

# The action server logs what actions report (search errors quoting a question, ...):
# personal identifiers are masked in every record, as in the gateway.
install_record_masking()
