# Record glmnet path reference values for tests/test_path.py.
#
#   cd tests && Rscript record_glmnet_fixtures.R
#
# Writes tests/fixtures/glmnet_path_<case>_coef.csv (lambda, a0, coefficients; one row per
# lambda, full precision "%.17g") for glmnet's *default* lambda sequence, and
# tests/fixtures/glmnet_path_<case>_data.csv (the exact data used: design columns, y, weights),
# plus glmnet_path_stamp.txt with the R and glmnet versions.  The tests never run R.
#
# All fits use thresh = 1e-14 on well-conditioned designs, so glmnet's digits are accurate to
# about 1e-8 there.  Elastic net and ridge get a unit-variance y (1/n sd), because glmnet divides
# y by its sd before solving, which changes what its lambda means when alpha < 1.  For ridge
# (alpha = 0) glmnet's first lambda returns the null model; the tests skip that row.
suppressPackageStartupMessages(library(glmnet))
stamp <- sprintf("%s; glmnet %s", R.version.string, as.character(packageVersion("glmnet")))
out <- "fixtures"
dir.create(out, showWarnings = FALSE)
TH <- 1e-14
ds <- "../regstats/datasets"

write_full <- function(df, file) {
  fmt <- as.data.frame(lapply(df, function(col) if (is.numeric(col)) sprintf("%.17g", col) else col),
                       stringsAsFactors = FALSE)
  names(fmt) <- names(df)
  write.csv(fmt, file, row.names = FALSE, quote = TRUE)
}

record <- function(case, X, y, alpha = 1, weights = NULL, penalty.factor = NULL) {
  n <- nrow(X)
  if (is.null(weights)) weights <- rep(1, n)
  if (is.null(penalty.factor)) penalty.factor <- rep(1, ncol(X))
  fit <- glmnet(X, y, alpha = alpha, weights = weights, penalty.factor = penalty.factor,
                thresh = TH, standardize = TRUE, intercept = TRUE, nlambda = 100)
  B <- as.matrix(coef(fit))
  res <- data.frame(lambda = fit$lambda, a0 = B[1, ], t(B[-1, , drop = FALSE]), check.names = FALSE)
  write_full(res, file.path(out, sprintf("glmnet_path_%s_coef.csv", case)))
  dat <- data.frame(X, y = y, weights = weights, check.names = FALSE)
  write_full(dat, file.path(out, sprintf("glmnet_path_%s_data.csv", case)))
  pf <- data.frame(column = colnames(X), penalty_factor = penalty.factor)
  write_full(pf, file.path(out, sprintf("glmnet_path_%s_pf.csv", case)))
  cat(case, ": ", length(fit$lambda), " lambdas\n", sep = "")
}

prostate <- read.csv(file.path(ds, "prostate.csv"))
Xp <- as.matrix(prostate[, c("lcavol", "lweight", "age", "lbph", "svi", "lcp", "gleason", "pgg45")])
yp <- prostate$lpsa
record("lasso", Xp, yp)

set.seed(20261127)
w <- runif(nrow(Xp), 0.2, 3)
pf <- c(1, 0.5, 2, 1, 0, 1, 1.5, 1)          # svi unpenalized
record("lasso_weights_pf", Xp, yp, weights = w, penalty.factor = pf)

mtcars_df <- read.csv(file.path(ds, "mtcars.csv"))
mf <- model.matrix(~ factor(cyl) + wt * hp + log(disp), data = mtcars_df)[, -1]
colnames(mf) <- c("C(cyl)[T.6]", "C(cyl)[T.8]", "wt", "hp", "np.log(disp)", "wt:hp")
record("mtcars_formula", mf, mtcars_df$mpg)

diab <- read.csv(file.path(ds, "diabetes.csv"))
Xd <- as.matrix(diab[, setdiff(names(diab), "y")])
yd <- diab$y
yu <- (yd - mean(yd)) / sqrt(mean((yd - mean(yd))^2)) + 3   # unit variance (1/n), nonzero mean
record("enet", Xd, yu, alpha = 0.5)
record("ridge", Xd, yu, alpha = 0)

writeLines(stamp, file.path(out, "glmnet_path_stamp.txt"))
