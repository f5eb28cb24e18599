import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def rng():
    """The one seeded generator of the test suite."""
    return np.random.default_rng(20261127)


def make_regression(rng, n=100, p=20, k=5, noise=1.0, rho=0.3):
    """A small Toeplitz-correlated regression problem as a DataFrame with response ``y``."""
    X = np.empty((n, p))
    X[:, 0] = rng.standard_normal(n)
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho * rho) * rng.standard_normal(n)
    beta = np.zeros(p)
    beta[:k] = rng.uniform(1, 2, k) * rng.choice([-1, 1], k)
    y = 2.0 + X @ beta + noise * rng.standard_normal(n)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["y"] = y
    return df, beta


@pytest.fixture
def regdata(rng):
    return make_regression(rng)
