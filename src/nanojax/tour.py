"""The tour of the guide that ``python -m nanojax`` runs."""

import nanojax as nj


def main() -> int:
    dx, dy = nj.grad(lambda x, y: x * y, argnums=(0, 1))(-2.0, 3.0)
    print(f"d(x*y)/dx = {dx}, d(x*y)/dy = {dy}")
    return 0
