"""
Sealed secret ballots. Pure (AES-256-GCM from ``cryptography``; randomness is passed in).

Threat model: someone who can read the database — every table, old row versions,
transaction ids (``xmin``), sequences, timestamps, the write-ahead log — but not the
engine's *ballot secret* must not be able to tell which choice a voter made in a secret
vote. So nothing linkable to a voter is stored in the clear:

- when a secret round opens it gets its own random 256-bit key, stored only *wrapped*
  (encrypted) with the deployment's ballot secret, which is never stored in the database;
- a ballot stores, in the voter's participation row, the choice *sealed* with the round's
  key: a fixed-length ciphertext (every choice padded to the same length), no running
  count is updated, and nothing is returned that depends on the choice;
- closing decrypts every sealed ballot of the round, counts them, stores only the counts
  (the result), and erases the sealed ballots and the wrapped key.

Who holds the ballot secret (the engine's operator) could decrypt the sealed ballots of an
open round: the same trust any server-side electronic vote places in its server. After
closing, the database holds no ciphertext or key any more (old row versions disappear
with the next ``VACUUM`` on PostgreSQL, a checkpoint on SQLite).
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from caseflow.errors import VoteError

#: Every choice is padded to this many bytes before sealing (same ciphertext length).
_WIDTH = 8
NONCE = 12
KEY = 32


def secret_key(secret: str | bytes) -> bytes:
    """The 256-bit key for the deployment's ballot secret (any length, any text)."""
    raw = secret.encode() if isinstance(secret, str) else secret
    if len(raw) < 16:
        raise VoteError("the ballot secret must be at least 16 bytes long")
    return hashlib.sha256(b"caseflow ballot secret\x00" + raw).digest()


def wrap(secret: bytes, round_key: bytes, nonce: bytes, label: str) -> bytes:
    """A round's key, encrypted with the deployment's secret (bound to the round)."""
    return nonce + AESGCM(secret).encrypt(nonce, round_key, label.encode())


def unwrap(secret: bytes, wrapped: bytes, label: str) -> bytes:
    try:
        return AESGCM(secret).decrypt(wrapped[:NONCE], wrapped[NONCE:], label.encode())
    except InvalidTag:
        raise VoteError(
            "the ballot secret does not open this vote: the engine runs with another "
            "ballot secret than the one the vote was opened with"
        ) from None


def seal(round_key: bytes, choice: str, nonce: bytes, label: str) -> bytes:
    """One choice, padded and encrypted: every sealed ballot has the same length."""
    padded = choice.encode().ljust(_WIDTH, b"\x00")
    return nonce + AESGCM(round_key).encrypt(nonce, padded, label.encode())


def open_sealed(round_key: bytes, sealed: bytes, label: str) -> str:
    try:
        padded = AESGCM(round_key).decrypt(sealed[:NONCE], sealed[NONCE:], label.encode())
    except InvalidTag:
        raise VoteError("a sealed ballot does not open with its vote's key") from None
    return padded.rstrip(b"\x00").decode()


def round_label(case_id: str, state: str, number: int) -> str:
    """What a round's key and ballots are bound to (a ballot cannot move to another round)."""
    return f"caseflow vote {case_id} {state} {number}"
