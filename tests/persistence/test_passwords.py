from persistence.passwords import hash_password, verify_password


def test_the_right_password_verifies():
    assert verify_password(hash_password("demo"), "demo")


def test_a_wrong_password_does_not_verify():
    assert not verify_password(hash_password("demo"), "Demo")


def test_a_malformed_hash_is_a_no_not_an_error():
    assert not verify_password("not-an-argon2-hash", "demo")
    assert not verify_password("", "")


def test_hashes_are_salted_argon2id():
    first, second = hash_password("demo"), hash_password("demo")
    assert first != second
    assert first.startswith("$argon2id$")
