"""hashlib.pbkdf2_hmac and hashlib.scrypt, which CPython takes from OpenSSL and this build lacks:
the RFC 8018 and RFC 7914 algorithms over hashlib's own digests, giving CPython's answers."""
import hashlib as _hashlib
import hmac as _hmac

_MASK = 0xFFFFFFFF


def pbkdf2_hmac(hash_name, password, salt, iterations, dklen=None):
    password, salt = bytes(memoryview(password)), bytes(memoryview(salt))
    if not isinstance(hash_name, str):
        raise TypeError(f"hash_name must be str, not {type(hash_name).__name__}")
    if iterations < 1:
        raise ValueError("iteration value must be greater than 0.")
    prf = _hmac.new(password, None, lambda data=b"": _hashlib.new(hash_name, data))
    size = prf.digest_size
    if dklen is None:
        dklen = size
    if dklen < 1:
        raise ValueError("key length must be greater than 0.")
    blocks = []
    for index in range(1, -(-dklen // size) + 1):
        # The keyed state is copied, not rebuilt: two digests per iteration instead of four.
        mac = prf.copy()
        mac.update(salt + index.to_bytes(4, "big"))
        u = mac.digest()
        total = int.from_bytes(u, "big")
        for _ in range(iterations - 1):
            mac = prf.copy()
            mac.update(u)
            u = mac.digest()
            total ^= int.from_bytes(u, "big")
        blocks.append(total.to_bytes(size, "big"))
    return b"".join(blocks)[:dklen]


def _salsa20_8(b):
    x = list(b)
    for _ in range(4):
        for a, s, d, r in _SALSA_ROUND:
            v = (x[a] + x[s]) & _MASK
            x[d] ^= ((v << r) | (v >> (32 - r))) & _MASK
    return [(x[i] + b[i]) & _MASK for i in range(16)]


# Salsa20's double round as (added, added, target, rotation), column round then row round.
_SALSA_ROUND = (
    (0, 12, 4, 7), (4, 0, 8, 9), (8, 4, 12, 13), (12, 8, 0, 18),
    (5, 1, 9, 7), (9, 5, 13, 9), (13, 9, 1, 13), (1, 13, 5, 18),
    (10, 6, 14, 7), (14, 10, 2, 9), (2, 14, 6, 13), (6, 2, 10, 18),
    (15, 11, 3, 7), (3, 15, 7, 9), (7, 3, 11, 13), (11, 7, 15, 18),
    (0, 3, 1, 7), (1, 0, 2, 9), (2, 1, 3, 13), (3, 2, 0, 18),
    (5, 4, 6, 7), (6, 5, 7, 9), (7, 6, 4, 13), (4, 7, 5, 18),
    (10, 9, 11, 7), (11, 10, 8, 9), (8, 11, 9, 13), (9, 8, 10, 18),
    (15, 14, 12, 7), (12, 15, 13, 9), (13, 12, 14, 13), (14, 13, 15, 18),
)


def _block_mix(blocks, r):
    x = blocks[-1]
    even, odd = [], []
    for i, block in enumerate(blocks):
        x = _salsa20_8([a ^ b for a, b in zip(x, block)])
        (odd if i % 2 else even).append(x)
    return even + odd


def _ro_mix(data, r, n):
    words = [int.from_bytes(data[i:i + 4], "little") for i in range(0, len(data), 4)]
    x = [words[i:i + 16] for i in range(0, len(words), 16)]
    table = []
    for _ in range(n):
        table.append(x)
        x = _block_mix(x, r)
    for _ in range(n):
        j = x[-1][0] % n
        x = _block_mix([[a ^ b for a, b in zip(xb, vb)] for xb, vb in zip(x, table[j])], r)
    return b"".join(w.to_bytes(4, "little") for block in x for w in block)


def scrypt(password, *, salt=None, n=None, r=None, p=None, maxmem=0, dklen=64):
    if salt is None or n is None or r is None or p is None:
        raise TypeError("scrypt() missing required argument (salt, n, r and p are required)")
    password, salt = bytes(memoryview(password)), bytes(memoryview(salt))
    if n < 2 or n & (n - 1):
        raise ValueError("n must be a power of 2.")
    if r < 1 or p < 1:
        raise ValueError("r and p must be positive")
    if not 1 <= dklen <= 2**31 - 1:
        raise ValueError("dklen must be greater than 0 and smaller than 2147483647")
    size = 128 * r
    if maxmem and size * (n + p + 2) > maxmem:
        raise ValueError("Invalid parameter combination for n, r, p, maxmem.")
    data = pbkdf2_hmac("sha256", password, salt, 1, p * size)
    mixed = b"".join(_ro_mix(data[i * size:(i + 1) * size], r, n) for i in range(p))
    return pbkdf2_hmac("sha256", password, mixed, 1, dklen)


if not hasattr(_hashlib, "pbkdf2_hmac"):
    _hashlib.pbkdf2_hmac = pbkdf2_hmac
if not hasattr(_hashlib, "scrypt"):
    _hashlib.scrypt = scrypt
