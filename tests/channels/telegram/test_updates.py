"""Duplicate deliveries are dropped; chats run concurrently, each one in order."""

import asyncio

from telegram import Chat, Message, Update

from channels.telegram.updates import PerChatUpdateProcessor, RecentUpdateIds


def test_an_update_id_passes_once() -> None:
    recent = RecentUpdateIds()
    assert recent.first_time(7)
    assert not recent.first_time(7)
    assert recent.first_time(8)


def test_memory_is_bounded_and_forgets_the_oldest() -> None:
    recent = RecentUpdateIds(capacity=3)
    for update_id in (1, 2, 3, 4):
        assert recent.first_time(update_id)
    assert len(recent) == 3
    assert recent.first_time(1)  # forgotten: would be processed again after this long
    assert not recent.first_time(4)


def _update(update_id: int, chat_id: int) -> Update:
    chat = Chat(id=chat_id, type="private")
    return Update(update_id, message=Message(update_id, date=None, chat=chat))  # type: ignore[arg-type]


def test_one_chat_in_order_other_chats_meanwhile() -> None:
    events: list[str] = []

    async def work(name: str, seconds: float) -> None:
        events.append(f"start {name}")
        await asyncio.sleep(seconds)
        events.append(f"end {name}")

    async def scenario() -> None:
        processor = PerChatUpdateProcessor(max_concurrent_updates=8)
        await asyncio.gather(
            processor.process_update(_update(1, 10), work("a1", 0.2)),
            processor.process_update(_update(2, 10), work("a2", 0.0)),
            processor.process_update(_update(3, 20), work("b1", 0.0)),
        )
        assert processor._locks == {} and processor._pending == {}

    asyncio.run(scenario())
    # a2 waits for a1 (same chat); b1 (another chat) does not wait for a1.
    assert events.index("end a1") < events.index("start a2")
    assert events.index("end b1") < events.index("end a1")
