# Record cv.glmnet(..., foldid=) reference values for tests/test_cv.py.
#
#   cd tests && Rscript record_cvglmnet_fixtures.R
#
# Writes tests/fixtures/cvglmnet_<case>_data.csv (the data, with the fold ids used) and
# tests/fixtures/cvglmnet_<case>_curve.csv (lambda, cvm, cvsd, nzero), plus
# tests/fixtures/cvglmnet_selected.csv (lambda.min / lambda.1se per case, stamped with the
# R and glmnet versions).  The tests never run R.
#
# All fits use thresh = 1e-14 (glmnet's default 1e-7 is visibly inexact) and pass the lambda
# sequence explicitly (so glmnet does not stop the path early); the Python side uses the same
# lambdas.
#
# Elastic net: glmnet's objective for every alpha is regstats' (the ridge part divided by each
# training fold's sd of y), so the case "enet_glmnet" records cv.glmnet itself on a response in its
# own units (sd far from 1), and regstats must reproduce it.
suppressPackageStartupMessages(library(glmnet))
stamp <- sprintf("%s; glmnet %s", R.version.string, as.character(packageVersion("glmnet")))
out <- "fixtures"
dir.create(out, showWarnings = FALSE)
TH <- 1e-14

toeplitz_x <- function(n, p, rho = 0.5) {
  X <- matrix(0, n, p)
  X[, 1] <- rnorm(n)
  for (j in 2:p) X[, j] <- rho * X[, j - 1] + sqrt(1 - rho^2) * rnorm(n)
  colnames(X) <- paste0("x", seq_len(p) - 1)
  X
}
sim <- function(n, p, k = 5, noise = 1) {
  X <- toeplitz_x(n, p)
  beta <- c(runif(k, 1, 2) * sample(c(-1, 1), k, replace = TRUE), rep(0, p - k))
  y <- 2 + drop(X %*% beta) + noise * rnorm(n)
  list(X = X, y = y)
}

selected <- list()
save_case <- function(name, data, cv, extra = list()) {
  write.csv(data, file.path(out, sprintf("cvglmnet_%s_data.csv", name)), row.names = FALSE)
  curve <- data.frame(lambda = cv$lambda, cvm = cv$cvm, cvsd = cv$cvsd, nzero = cv$nzero)
  write.csv(curve, file.path(out, sprintf("cvglmnet_%s_curve.csv", name)), row.names = FALSE)
  selected[[name]] <<- data.frame(case = name, lambda_min = cv$lambda.min, lambda_1se = cv$lambda.1se,
                                  stamp = stamp)
}
full_lambda <- function(x, y, ...) glmnet(x, y, thresh = TH, ...)$lambda

# ---- lasso, n = 100, p = 20 -------------------------------------------------------------------
set.seed(1)
s <- sim(100, 20)
foldid <- sample(rep(1:10, length.out = 100))
lam <- full_lambda(s$X, s$y)
cv <- cv.glmnet(s$X, s$y, foldid = foldid, lambda = lam, thresh = TH)
save_case("lasso", data.frame(s$X, y = s$y, foldid = foldid), cv)
cvm <- cv.glmnet(s$X, s$y, foldid = foldid, lambda = lam, thresh = TH, type.measure = "mae")
save_case("lasso_mae", data.frame(s$X, y = s$y, foldid = foldid), cvm)

# ---- relaxed lasso on the same data (gamma grid of glmnet) ------------------------------------
gam <- c(0, 0.25, 0.5, 0.75, 1)
cvr <- cv.glmnet(s$X, s$y, foldid = foldid, lambda = lam, thresh = TH, relax = TRUE, gamma = gam)
rel <- do.call(rbind, lapply(seq_along(gam), function(i) {
  st <- cvr$relaxed$statlist[[i]]
  data.frame(gamma = gam[i], lambda = st$lambda, cvm = st$cvm, cvsd = st$cvsd, nzero = st$nzero)
}))
write.csv(rel, file.path(out, "cvglmnet_relaxed_curve.csv"), row.names = FALSE)
write.csv(data.frame(lambda_min = cvr$relaxed$lambda.min, gamma_min = cvr$relaxed$gamma.min,
                     lambda_1se = cvr$relaxed$lambda.1se, gamma_1se = cvr$relaxed$gamma.1se,
                     stamp = stamp),
          file.path(out, "cvglmnet_relaxed_selected.csv"), row.names = FALSE)

# ---- lasso with p > n ---------------------------------------------------------------------------
set.seed(2)
s2 <- sim(60, 100)
foldid2 <- sample(rep(1:5, length.out = 60))
lam2 <- full_lambda(s2$X, s2$y)
cv2 <- cv.glmnet(s2$X, s2$y, foldid = foldid2, lambda = lam2, thresh = TH)
save_case("lasso_wide", data.frame(s2$X, y = s2$y, foldid = foldid2), cv2)

# ---- elastic net (alpha = 0.5) on a response in its own units ---------------------------------
set.seed(3)
s3 <- sim(100, 20)
y3 <- 7 * s3$y
foldid3 <- sample(rep(1:10, length.out = 100))
a <- 0.5
lam3 <- full_lambda(s3$X, y3, alpha = a)
cv3 <- cv.glmnet(s3$X, y3, foldid = foldid3, lambda = lam3, alpha = a, thresh = TH)
save_case("enet_glmnet", data.frame(s3$X, y = y3, foldid = foldid3), cv3)

# ---- lasso with observation weights ------------------------------------------------------------
set.seed(4)
s4 <- sim(120, 15)
w4 <- runif(120, 0.2, 3)
foldid4 <- sample(rep(1:8, length.out = 120))
lam4 <- full_lambda(s4$X, s4$y, weights = w4)
cv4 <- cv.glmnet(s4$X, s4$y, weights = w4, foldid = foldid4, lambda = lam4, thresh = TH)
save_case("weights", data.frame(s4$X, y = s4$y, w = w4, foldid = foldid4), cv4)

# ---- lasso with penalty factors (two unpenalized columns, some doubled) -------------------------
set.seed(5)
s5 <- sim(100, 12)
pf <- c(0, 1, 1, 2, 1, 0, 1, 1, 2, 2, 1, 1)
foldid5 <- sample(rep(1:10, length.out = 100))
lam5 <- full_lambda(s5$X, s5$y, penalty.factor = pf)
cv5 <- cv.glmnet(s5$X, s5$y, penalty.factor = pf, foldid = foldid5, lambda = lam5, thresh = TH)
save_case("penalty_factor", data.frame(s5$X, y = s5$y, foldid = foldid5), cv5)

# ---- a formula with a factor and missing rows --------------------------------------------------
set.seed(6)
n6 <- 150
d6 <- data.frame(x1 = rnorm(n6), x2 = rnorm(n6), x3 = rnorm(n6),
                 g = sample(c("a", "b", "c", "d"), n6, replace = TRUE))
d6$y <- 1 + d6$x1 - 0.5 * d6$x2 + c(a = 0, b = 1, c = -1, d = 0.5)[d6$g] + rnorm(n6)
d6$x2[sample(n6, 8)] <- NA
d6$y[sample(n6, 5)] <- NA
d6$foldid <- sample(rep(1:10, length.out = n6))
mf <- model.frame(y ~ x1 + x2 + x3 + g, d6)                 # na.omit drops incomplete rows
x6 <- model.matrix(y ~ x1 + x2 + x3 + g, mf)[, -1]
y6 <- model.response(mf)
f6 <- d6$foldid[as.integer(rownames(mf))]
lam6 <- full_lambda(x6, y6)
cv6 <- cv.glmnet(x6, y6, foldid = f6, lambda = lam6, thresh = TH)
save_case("formula", d6, cv6)

write.csv(do.call(rbind, selected), file.path(out, "cvglmnet_selected.csv"), row.names = FALSE)
cat("recorded with", stamp, "\n")
