"""Numerical kernels: arrays in, arrays out; no pandas.  The only package that imports numba."""
from .cd import cd_path_gram
from .naive import cd_path_naive
from .ridge import cut_singular, ridge_df_svd, ridge_path_gram, ridge_path_svd, ridge_svd
from .standardize import standardize_columns, wants_compact

__all__ = ["cd_path_gram", "cd_path_naive", "cut_singular", "ridge_svd", "ridge_path_svd", "ridge_df_svd", "ridge_path_gram",
           "standardize_columns", "wants_compact"]
