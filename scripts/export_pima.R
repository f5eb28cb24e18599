# Writes regstats/datasets/pima.csv from R's MASS package (Venables & Ripley), run from the repo root:
#     Rscript scripts/export_pima.R
# Rows 1-200 are MASS::Pima.tr, rows 201-532 MASS::Pima.te (Ripley's training and test sets).
library(MASS)
d <- rbind(Pima.tr, Pima.te)
stopifnot(nrow(d) == 532, !anyNA(d))
write.csv(d, "regstats/datasets/pima.csv", row.names = FALSE, quote = FALSE)
cat(sprintf("# %s, MASS %s: %d rows\n", R.version.string, packageVersion("MASS"), nrow(d)))
