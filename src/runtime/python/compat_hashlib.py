"""hashlib.pbkdf2_hmac and hashlib.scrypt, which CPython takes from OpenSSL and this build lacks:
the RFC 8018 and RFC 7914 algorithms over hashlib's own digests, giving CPython's answers."""
import hashlib as _hashlib
import hmac as _hmac


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
    # Unrolled: about four times faster than a loop over the round table.
    x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15 = b
    for _ in range(4):
        t = (x0 + x12) & 0xFFFFFFFF
        x4 ^= ((t << 7) & 0xFFFFFFFF) | (t >> 25)
        t = (x4 + x0) & 0xFFFFFFFF
        x8 ^= ((t << 9) & 0xFFFFFFFF) | (t >> 23)
        t = (x8 + x4) & 0xFFFFFFFF
        x12 ^= ((t << 13) & 0xFFFFFFFF) | (t >> 19)
        t = (x12 + x8) & 0xFFFFFFFF
        x0 ^= ((t << 18) & 0xFFFFFFFF) | (t >> 14)
        t = (x5 + x1) & 0xFFFFFFFF
        x9 ^= ((t << 7) & 0xFFFFFFFF) | (t >> 25)
        t = (x9 + x5) & 0xFFFFFFFF
        x13 ^= ((t << 9) & 0xFFFFFFFF) | (t >> 23)
        t = (x13 + x9) & 0xFFFFFFFF
        x1 ^= ((t << 13) & 0xFFFFFFFF) | (t >> 19)
        t = (x1 + x13) & 0xFFFFFFFF
        x5 ^= ((t << 18) & 0xFFFFFFFF) | (t >> 14)
        t = (x10 + x6) & 0xFFFFFFFF
        x14 ^= ((t << 7) & 0xFFFFFFFF) | (t >> 25)
        t = (x14 + x10) & 0xFFFFFFFF
        x2 ^= ((t << 9) & 0xFFFFFFFF) | (t >> 23)
        t = (x2 + x14) & 0xFFFFFFFF
        x6 ^= ((t << 13) & 0xFFFFFFFF) | (t >> 19)
        t = (x6 + x2) & 0xFFFFFFFF
        x10 ^= ((t << 18) & 0xFFFFFFFF) | (t >> 14)
        t = (x15 + x11) & 0xFFFFFFFF
        x3 ^= ((t << 7) & 0xFFFFFFFF) | (t >> 25)
        t = (x3 + x15) & 0xFFFFFFFF
        x7 ^= ((t << 9) & 0xFFFFFFFF) | (t >> 23)
        t = (x7 + x3) & 0xFFFFFFFF
        x11 ^= ((t << 13) & 0xFFFFFFFF) | (t >> 19)
        t = (x11 + x7) & 0xFFFFFFFF
        x15 ^= ((t << 18) & 0xFFFFFFFF) | (t >> 14)
        t = (x0 + x3) & 0xFFFFFFFF
        x1 ^= ((t << 7) & 0xFFFFFFFF) | (t >> 25)
        t = (x1 + x0) & 0xFFFFFFFF
        x2 ^= ((t << 9) & 0xFFFFFFFF) | (t >> 23)
        t = (x2 + x1) & 0xFFFFFFFF
        x3 ^= ((t << 13) & 0xFFFFFFFF) | (t >> 19)
        t = (x3 + x2) & 0xFFFFFFFF
        x0 ^= ((t << 18) & 0xFFFFFFFF) | (t >> 14)
        t = (x5 + x4) & 0xFFFFFFFF
        x6 ^= ((t << 7) & 0xFFFFFFFF) | (t >> 25)
        t = (x6 + x5) & 0xFFFFFFFF
        x7 ^= ((t << 9) & 0xFFFFFFFF) | (t >> 23)
        t = (x7 + x6) & 0xFFFFFFFF
        x4 ^= ((t << 13) & 0xFFFFFFFF) | (t >> 19)
        t = (x4 + x7) & 0xFFFFFFFF
        x5 ^= ((t << 18) & 0xFFFFFFFF) | (t >> 14)
        t = (x10 + x9) & 0xFFFFFFFF
        x11 ^= ((t << 7) & 0xFFFFFFFF) | (t >> 25)
        t = (x11 + x10) & 0xFFFFFFFF
        x8 ^= ((t << 9) & 0xFFFFFFFF) | (t >> 23)
        t = (x8 + x11) & 0xFFFFFFFF
        x9 ^= ((t << 13) & 0xFFFFFFFF) | (t >> 19)
        t = (x9 + x8) & 0xFFFFFFFF
        x10 ^= ((t << 18) & 0xFFFFFFFF) | (t >> 14)
        t = (x15 + x14) & 0xFFFFFFFF
        x12 ^= ((t << 7) & 0xFFFFFFFF) | (t >> 25)
        t = (x12 + x15) & 0xFFFFFFFF
        x13 ^= ((t << 9) & 0xFFFFFFFF) | (t >> 23)
        t = (x13 + x12) & 0xFFFFFFFF
        x14 ^= ((t << 13) & 0xFFFFFFFF) | (t >> 19)
        t = (x14 + x13) & 0xFFFFFFFF
        x15 ^= ((t << 18) & 0xFFFFFFFF) | (t >> 14)
    return [
        (x0 + b[0]) & 0xFFFFFFFF, (x1 + b[1]) & 0xFFFFFFFF, (x2 + b[2]) & 0xFFFFFFFF, (x3 + b[3]) & 0xFFFFFFFF,
        (x4 + b[4]) & 0xFFFFFFFF, (x5 + b[5]) & 0xFFFFFFFF, (x6 + b[6]) & 0xFFFFFFFF, (x7 + b[7]) & 0xFFFFFFFF,
        (x8 + b[8]) & 0xFFFFFFFF, (x9 + b[9]) & 0xFFFFFFFF, (x10 + b[10]) & 0xFFFFFFFF, (x11 + b[11]) & 0xFFFFFFFF,
        (x12 + b[12]) & 0xFFFFFFFF, (x13 + b[13]) & 0xFFFFFFFF, (x14 + b[14]) & 0xFFFFFFFF, (x15 + b[15]) & 0xFFFFFFFF,
    ]



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
