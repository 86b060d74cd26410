"""The embedded broker's transport (config/broker.py): messages appear whole, a broken file never kills a consumer."""
from __future__ import annotations

import os

import pytest
from kombu import Connection

from config import broker


@pytest.fixture
def channel(tmp_path):
    folders = {name: tmp_path / name for name in ("queue", "processed", "control")}
    for folder in folders.values():
        folder.mkdir()
    connection = Connection("filesystem://", transport=broker.AtomicFilesystemTransport, transport_options={
        "data_folder_in": str(folders["queue"]), "data_folder_out": str(folders["queue"]),
        "processed_folder": str(folders["processed"]), "store_processed": False,
        "control_folder": str(folders["control"])})
    yield connection.default_channel
    connection.release()


def _queue_files(channel) -> list[str]:
    return sorted(os.listdir(channel.data_folder_in))


def test_a_message_is_taken_whole_and_leaves_no_file_behind(channel):
    # given a message put on the `core` queue
    channel._put("core", {"body": "wake up", "n": 1})
    # then the queue folder holds exactly one complete message file and no temporary file
    assert [name.rsplit(".", 2)[1:] for name in _queue_files(channel)] == [["core", "msg"]]
    # when a consumer takes it
    message = channel._get("core")
    # then it is the whole message and no file is left anywhere
    assert message == {"body": "wake up", "n": 1}
    assert _queue_files(channel) == []
    assert os.listdir(channel._taken_folder()) == []
    with pytest.raises(broker.filesystem.Empty):
        channel._get("core")


def test_a_write_cut_short_never_shows_a_message_to_consumers(channel, monkeypatch):
    # given the rename into place fails (the process dies between write and rename)
    def rename_fails(source, destination):
        raise OSError("disk gone")

    monkeypatch.setattr(broker.os, "replace", rename_fails)
    # when a message is put
    with pytest.raises(broker.ChannelError):
        channel._put("core", {"body": "lost"})
    # then no consumer can see a partial message, and the temporary file is cleaned up
    assert _queue_files(channel) == []
    with pytest.raises(broker.filesystem.Empty):
        channel._get("core")


def test_an_empty_or_broken_file_is_set_aside_and_the_next_message_delivered(channel):
    # given an empty message file (what kombu's own transport shows mid-write) and a garbled one, then a good one
    open(os.path.join(channel.data_folder_in, "0_a.core.msg"), "wb").close()
    with open(os.path.join(channel.data_folder_in, "0_b.core.msg"), "wb") as garbled:
        garbled.write(b"{not json")
    channel._put("core", {"body": "good"})
    # when a consumer polls
    message = channel._get("core")
    # then it gets the good message, and the broken files are kept aside for inspection
    assert message == {"body": "good"}
    broken = os.path.join(os.path.dirname(channel.data_folder_in), broker.BROKEN_FOLDER)
    assert sorted(os.listdir(broken)) == ["0_a.core.msg", "0_b.core.msg"]
    assert _queue_files(channel) == []


def test_messages_of_other_queues_are_left_alone(channel):
    # given messages on two queues
    channel._put("notify", {"body": "mail"})
    channel._put("core", {"body": "money"})
    # when the core queue is read, then only its message is taken
    assert channel._get("core") == {"body": "money"}
    assert channel._get("notify") == {"body": "mail"}
