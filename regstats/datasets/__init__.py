"""Small public datasets bundled with regstats, for examples, the demo report and the tests.

========== ===== ============================================================================
name       shape description
========== ===== ============================================================================
credit     400x12 ISLR's Credit (James, Witten, Hastie & Tibshirani 2013); response ``Balance``
                  (dollars); ``ID`` is a row identifier (``Balance ~ . - ID``)
diabetes   442x11 Efron, Hastie, Johnstone & Tibshirani (2004), raw units; response ``y``
hitters    322x20 ISLR's Hitters: 1986 Major League Baseball; response ``Salary`` (thousands
                  of dollars, missing for 59 players)
mtcars     32x12  Motor Trend cars (Henderson & Velleman 1981), as in R; response ``mpg``;
                  the car name is column ``model``
pima       532x8  Pima Indians diabetes (Smith et al. 1988), as R's MASS ``Pima.tr`` + ``Pima.te``;
                  binary response ``type`` (``"Yes"``: diabetic by WHO criteria, 177 of 532);
                  ``type ~ .`` with ``family="binomial"`` models P(type = 'Yes')
prostate   97x10  Stamey et al. (1989), as in Hastie, Tibshirani & Friedman (2009);
                  response ``lpsa``; ``train`` marks the book's training rows (T/F)
========== ===== ============================================================================

``credit`` and ``hitters`` are the copies shipped with the ISLP package (BSD licence).

``pima``: women of Pima Indian heritage, at least 21 years old, living near Phoenix, Arizona, tested
for diabetes by the US National Institute of Diabetes and Digestive and Kidney Diseases (Smith,
Everhart, Dickson, Knowler & Johannes 1988, "Using the ADAP learning algorithm to forecast the onset
of diabetes mellitus", *Proc. Symposium on Computer Applications in Medical Care*, 261-265). The
copy is the one R's MASS package ships (Venables & Ripley 2002; Ripley 1996, *Pattern Recognition
and Neural Networks*): the 532 complete records, rows 1-200 being ``Pima.tr`` and rows 201-532
``Pima.te`` (Ripley's training and test sets), exported by ``scripts/export_pima.R`` (R 4.2.2,
MASS 7.3-58.2). Columns: ``npreg`` pregnancies, ``glu`` plasma glucose two hours into an oral
glucose tolerance test, ``bp`` diastolic blood pressure (mm Hg), ``skin`` triceps skin fold (mm),
``bmi`` body mass index, ``ped`` diabetes pedigree function, ``age`` (years), ``type`` Yes/No.
Sources and licences of every bundled file: ``PROVENANCE.md`` in this folder.
"""
from __future__ import annotations

from importlib import resources

import pandas as pd

from ..errors import DataError

DATASETS = ("credit", "diabetes", "hitters", "mtcars", "pima", "prostate")


def load_dataset(name: str) -> pd.DataFrame:
    """Load a bundled dataset as a DataFrame: ``"credit"``, ``"diabetes"``, ``"hitters"``,
    ``"mtcars"``, ``"pima"`` or ``"prostate"`` (sources in this module's docstring).

    ``"pima"`` is the Pima Indians diabetes data of R's MASS package (``rbind(Pima.tr, Pima.te)``,
    532 rows; Smith et al. 1988, via Ripley 1996), with the binary response ``type`` (``"No"`` /
    ``"Yes"``): ``rs.lasso("type ~ .", rs.load_dataset("pima"), family="binomial")`` models
    P(type = 'Yes'), the second level in sorted order, as R's glm does.
    """
    if name not in DATASETS:
        raise DataError(f"dataset must be one of {', '.join(map(repr, DATASETS))}; got {name!r}")
    with resources.files(__name__).joinpath(f"{name}.csv").open("r") as fh:
        df = pd.read_csv(fh)
    if name == "mtcars":
        df = df.rename(columns={df.columns[0]: "model"})
    return df
