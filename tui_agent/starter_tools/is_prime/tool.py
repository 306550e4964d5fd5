def is_prime(n: int) -> bool:
    """Return True when n is a prime number (n < 2 is never prime)."""
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    divisor = 3
    while divisor * divisor <= n:
        if n % divisor == 0:
            return False
        divisor += 2
    return True
