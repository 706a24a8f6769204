from __future__ import annotations

from db.identity import decrypt_address, encrypt_address, sender_hash, value_hash


def test_sender_hash_is_keyed_stable_and_hides_the_number():
    first = sender_hash("key-a", "sms", "+14105550100")

    assert first == sender_hash("key-a", "sms", "+14105550100")
    assert first != sender_hash("key-b", "sms", "+14105550100")
    assert first != sender_hash("key-a", "telegram", "+14105550100")
    assert "4105550100" not in first
    assert len(first) == 64


def test_value_hash_separates_purposes():
    assert value_hash("k", "case", "0B01234567") != value_hash("k", "dob", "0B01234567")


def test_encrypted_address_round_trips_only_with_the_same_key():
    token = encrypt_address("secret-1", "+14105550100")

    assert b"4105550100" not in token
    assert decrypt_address("secret-1", token) == "+14105550100"
    assert decrypt_address("secret-2", token) is None
    assert decrypt_address("secret-1", b"forged-token") is None
