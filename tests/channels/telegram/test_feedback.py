"""Thumbs up/down under answers, through the real webhook and a real SQLite store."""

from channels.telegram.i18n import translate
from participation.service import ParticipationService
from tests.channels.telegram.botapi_peer import BotApiPeer
from tests.channels.telegram.gateway import Gateway


def test_a_tap_stores_the_vote_and_a_forged_tap_changes_nothing(
    gateway: Gateway, botapi: BotApiPeer, store: ParticipationService
) -> None:
    botapi.deliver(botapi.text_update(501, "What is CERV?"))
    botapi.wait_texts(501, 1)
    (row,) = botapi.messages(501)[0]["reply_markup"]["inline_keyboard"]
    up, down = (b["callback_data"] for b in row)
    assert up.startswith("fb:") and up.endswith(":+") and down.endswith(":-")

    botapi.deliver(botapi.callback_update(777, up))  # another chat's turn
    (answer,) = botapi.wait_for("answerCallbackQuery")
    assert answer.params["text"] == translate("feedback.invalid", "en")
    assert store.export_user("telegram:777")["questions"] == []

    botapi.deliver(botapi.callback_update(501, down, language_code="hr"))
    answers = botapi.wait_for("answerCallbackQuery", 2)
    assert answers[1].params["text"] == translate("feedback.thanks", "en")
    (edit,) = botapi.wait_for("editMessageReplyMarkup")
    assert edit.params["reply_markup"].get("inline_keyboard", []) == [], edit.params
    assert [f["rating"] for f in store.export_user("telegram:501")["feedback"]] == [-1]
