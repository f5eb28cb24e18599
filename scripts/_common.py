"""Shared by the simulation scripts: the simulated design and a Markdown table writer."""
from __future__ import annotations

import numpy as np
import pandas as pd


def design(rng, n, p, k=5, rho=0.5, snr=2.0, nonlinear=0.0):
    """Toeplitz (rho) Gaussian design, k nonzero coefficients, weights column ``w``.

    Returns (data, mu, sigma): ``mu`` the true mean (plus ``nonlinear * sin(2 x0)``, a part no
    linear model captures), ``sigma`` the noise sd giving signal-to-noise ``snr``.
    """
    X = np.empty((n, p))
    X[:, 0] = rng.standard_normal(n)
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho * rho) * rng.standard_normal(n)
    beta = np.zeros(p)
    beta[:k] = rng.uniform(1, 2, k) * rng.choice([-1, 1], k)
    mu = 1.0 + X @ beta + nonlinear * np.sin(2 * X[:, 0])
    sigma = float(np.sqrt(np.var(mu) / snr))
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["w"] = rng.uniform(0.25, 4.0, n)
    df["y"] = mu + sigma * rng.standard_normal(n)
    return df, mu, sigma


def md_table(df: pd.DataFrame, floatfmt: str = ".4g") -> str:
    """A Markdown table with floats formatted by ``floatfmt``."""
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for _, row in df.iterrows():
        cells = [format(v, floatfmt) if isinstance(v, (float, np.floating)) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
