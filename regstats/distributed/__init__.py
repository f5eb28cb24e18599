"""The dask backend: penalized paths and their statistics on a dask DataFrame, from sufficient
statistics gathered in a few passes (docs/distributed.md).

``rs.lasso(formula, ddf)`` (and ``ridge``, ``elastic_net``, ``cv_elastic_net``) delegates here when ``ddf`` is a
``dask.dataframe.DataFrame``; dask is imported only then.
"""
from __future__ import annotations

from .fit import MAX_P, DaskFit, DaskPath, cv_elastic_net, elastic_net, is_dask_frame
from .gram import RowsNeeded
from .passes import hash_folds, halves, poisson_weights

__all__ = ["elastic_net", "cv_elastic_net", "is_dask_frame", "DaskPath", "DaskFit", "RowsNeeded", "MAX_P",
           "hash_folds", "poisson_weights", "halves"]
