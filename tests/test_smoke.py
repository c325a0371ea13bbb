import nanojax as nj


def test_multiply_gate_gradient_is_the_other_input():
    dx, dy = nj.grad(lambda x, y: x * y, argnums=(0, 1))(-2.0, 3.0)
    assert (dx, dy) == (3.0, -2.0)
