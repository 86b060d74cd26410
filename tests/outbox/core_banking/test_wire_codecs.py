"""The wire codecs of the core adapter: v1 passes bodies unchanged, v2 renames the bank's fields both ways."""
from outbox.core_banking import wire_v1, wire_v2


def test_v1_codec_leaves_bodies_unchanged():
    body = {"accountId": "A", "amount": 5}
    assert wire_v1.request_body(body) == body and wire_v1.answer_body(body) == body


def test_v2_codec_sends_v2_names_and_reads_answers_back_into_the_bank_names_at_every_depth():
    # when a withdrawal body is encoded and a v2 idempotency record decoded
    sent = wire_v2.request_body({"accountId": "A", "amount": 5, "transactionType": "TRANSFER_WITHDRAWAL"})
    read = wire_v2.answer_body({"key": "k", "state": "applied", "answer_status": 200,
                                "answer": {"posting_ref": "T", "balance_after_yen": 9, "lifecycle": "COMPLETED"},
                                "postings": [{"amount_yen": -5}]})
    # then
    assert sent == {"account_ref": "A", "amount_yen": 5, "posting_type": "TRANSFER_WITHDRAWAL"}
    assert read == {"key": "k", "state": "applied", "statusCode": 200,
                    "response": {"transactionId": "T", "newBalance": 9, "status": "COMPLETED"},
                    "transactions": [{"amount": -5}]}
