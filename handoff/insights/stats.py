"""Small, dependency-free statistics: enough to never propose a change on noise.

Proportions get Wilson intervals; signal effects come from one logistic regression over
every signal at once (so signals that travel together are not credited twice), fitted by
Newton-Raphson on sparse 0/1 features.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def percent(value: float | None) -> str:
    """How a rate reads in a report: "42%", or "n/a" when there was nothing to measure."""
    return "n/a" if value is None else f"{value:.0%}"


def duration(seconds: float | None) -> str:
    """How a person reads a wait: "1.2 s", "14 min", "6 h 7 min", "2 d 3 h"; "n/a" for none."""
    if seconds is None:
        return "n/a"
    if seconds < 120:
        return f"{seconds:.1f} s".replace(".0 s", " s")
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    days, hours = divmod(hours, 24)
    return f"{days} d" + (f" {hours} h" if hours else "")


def rate(hits: int, total: int) -> float | None:
    return hits / total if total else None


def wilson(hits: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for a proportion (sane at 0, 1 and small n)."""
    if total == 0:
        return 0.0, 1.0
    p = hits / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def normal_two_sided_p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


def z_for_two_sided(alpha: float) -> float:
    """The |z| a two-sided test at level alpha needs (bisection on erfc; alpha in (0, 1))."""
    low, high = 0.0, 40.0
    for _ in range(100):
        middle = (low + high) / 2
        if normal_two_sided_p(middle) > alpha:
            low = middle
        else:
            high = middle
    return high


def two_proportion_z(hits_a: int, n_a: int, hits_b: int, n_b: int) -> float:
    """z for "rate A differs from rate B", pooled standard error; 0 when undefined."""
    if not n_a or not n_b:
        return 0.0
    pooled = (hits_a + hits_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    return (hits_a / n_a - hits_b / n_b) / se if se else 0.0


def welch_z(a: Sequence[float], b: Sequence[float]) -> float:
    """z for "mean A differs from mean B" with unequal variances (amounts); 0 when undefined."""
    if len(a) < 2 or len(b) < 2:
        return 0.0
    mean_a, mean_b = sum(a) / len(a), sum(b) / len(b)
    var_a = sum((x - mean_a) ** 2 for x in a) / (len(a) - 1)
    var_b = sum((x - mean_b) ** 2 for x in b) / (len(b) - 1)
    se = math.sqrt(var_a / len(a) + var_b / len(b))
    return (mean_a - mean_b) / se if se else 0.0


@dataclass(frozen=True)
class Coefficient:
    feature: str
    log_odds: float
    standard_error: float

    @property
    def z(self) -> float:
        return self.log_odds / self.standard_error if self.standard_error else 0.0

    @property
    def odds_ratio(self) -> float:
        return math.exp(self.log_odds)

    def odds_ratio_interval(self, z: float = 1.96) -> tuple[float, float]:
        return math.exp(self.log_odds - z * self.standard_error), math.exp(
            self.log_odds + z * self.standard_error
        )


def _solve(matrix: list[list[float]], vector: list[float]) -> tuple[list[float], list[list[float]]]:
    """(matrix^-1 vector, matrix^-1) by Gauss-Jordan with partial pivoting; the matrix is small."""
    size = len(vector)
    augmented = [
        row[:] + [1.0 if i == j else 0.0 for j in range(size)] + [vector[i]] for i, row in enumerate(matrix)
    ]
    for column in range(size):
        pivot = max(range(column, size), key=lambda r: abs(augmented[r][column]))
        if abs(augmented[pivot][column]) < 1e-12:
            raise ValueError("singular information matrix: a feature is constant or duplicated")
        augmented[column], augmented[pivot] = augmented[pivot], augmented[column]
        scale = augmented[column][column]
        augmented[column] = [v / scale for v in augmented[column]]
        for row in range(size):
            if row != column and augmented[row][column]:
                factor = augmented[row][column]
                augmented[row] = [
                    v - factor * p for v, p in zip(augmented[row], augmented[column], strict=True)
                ]
    inverse = [row[size : 2 * size] for row in augmented]
    return [row[-1] for row in augmented], inverse


def _bounded(eta: float) -> float:
    return max(-35.0, min(35.0, eta))


@dataclass
class Group:
    """Rows with the same features, as one weighted row: how many, and their targets' sum and
    sum of squares. A model over a million rows fits on the few hundred distinct feature sets."""

    n: int = 0
    total: float = 0.0
    squares: float = 0.0

    def add(self, target: float, count: int = 1) -> None:
        self.n += count
        self.total += target
        self.squares += target * target


def group_rows(rows: Sequence[frozenset[str]], targets: Sequence[float]) -> dict[frozenset[str], Group]:
    groups: dict[frozenset[str], Group] = {}
    for row, target in zip(rows, targets, strict=True):
        if row not in groups:
            groups[row] = Group()
        groups[row].add(target)
    return groups


def _newton_fit(
    groups: dict[frozenset[str], Group],
    features: Sequence[str],
    mean: Callable[[float], tuple[float, float]],
    ridge: float,
    scale: float = 1.0,
) -> tuple[list[tuple[list[int], Group]], list[float], list[list[float]]]:
    """A generalised linear model with a canonical link, by Newton's method: ``mean(eta)`` gives
    the fitted mean and its variance (the weight). Targets are each group's total over ``scale``.
    Returns each group's columns, the coefficients (intercept first) and the inverse Fisher
    information."""
    index = {f: i + 1 for i, f in enumerate(features)}
    size = len(features) + 1
    active = [([0, *sorted(index[f] for f in row if f in index)], g) for row, g in groups.items()]
    beta = [0.0] * size
    inverse: list[list[float]] = []
    for _ in range(50):
        gradient = [-ridge * b for b in beta]
        information = [[ridge if i == j else 0.0 for j in range(size)] for i in range(size)]
        for columns, group in active:
            fitted, weight = mean(_bounded(sum(beta[c] for c in columns)))
            residual = group.total / scale - group.n * fitted
            weight *= group.n
            for a in columns:
                gradient[a] += residual
                row = information[a]
                for b in columns:
                    row[b] += weight
        step, inverse = _solve(information, gradient)
        beta = [b + s for b, s in zip(beta, step, strict=True)]
        if max(abs(s) for s in step) < 1e-8:
            break
    return active, beta, inverse


def _logistic(eta: float) -> tuple[float, float]:
    p = 1 / (1 + math.exp(-eta))
    return p, p * (1 - p)


def _poisson(eta: float) -> tuple[float, float]:
    mu = math.exp(eta)
    return mu, mu


def logistic_regression(
    rows: Sequence[frozenset[str]], outcomes: Sequence[bool], features: Sequence[str], *, ridge: float = 1e-3
) -> list[Coefficient]:
    """Fit P(outcome) = sigmoid(b0 + sum b_f [f in row]) and return each feature's
    coefficient with its standard error (from the inverse Fisher information).

    A tiny ridge keeps a feature seen in every (or no) positive row finite."""
    return logistic_regression_grouped(
        group_rows(rows, [1.0 if o else 0.0 for o in outcomes]), features, ridge=ridge
    )


def logistic_regression_grouped(
    groups: dict[frozenset[str], Group], features: Sequence[str], *, ridge: float = 1e-3
) -> list[Coefficient]:
    """``logistic_regression`` on rows already grouped by their features (targets 0 or 1)."""
    _, beta, inverse = _newton_fit(groups, features, _logistic, ridge)
    return [
        Coefficient(
            feature=name, log_odds=beta[i + 1], standard_error=math.sqrt(max(inverse[i + 1][i + 1], 0.0))
        )
        for i, name in enumerate(features)
    ]


def log_linear_regression(
    rows: Sequence[frozenset[str]], values: Sequence[float], features: Sequence[str], *, ridge: float = 1e-3
) -> list[Coefficient]:
    """Fit E[value] = exp(b0 + sum b_f [f in row]) for a non-negative value (an amount, mostly
    zeros) and return each feature's coefficient: exp(b) is the ratio of expected values with
    and without the feature, read like an odds ratio. Poisson estimating equations with robust
    (sandwich) standard errors, so a heavy-tailed amount does not pass for certainty.

    Values are divided by their mean first: only the intercept depends on the scale."""
    return log_linear_regression_grouped(group_rows(rows, values), features, ridge=ridge)


def log_linear_regression_grouped(
    groups: dict[frozenset[str], Group], features: Sequence[str], *, ridge: float = 1e-3
) -> list[Coefficient]:
    """``log_linear_regression`` on rows already grouped by their features."""
    count = sum(g.n for g in groups.values())
    scale = sum(g.total for g in groups.values()) / count if count else 0.0
    if scale <= 0:
        return [Coefficient(feature=f, log_odds=0.0, standard_error=0.0) for f in features]
    names = ["(intercept)", *features]
    active, beta, inverse = _newton_fit(groups, features, _poisson, ridge, scale)
    # Sandwich (robust) variance: I^-1 (sum x x' r^2) I^-1, right whatever the amounts' spread;
    # a group's sum of squared residuals comes from its count, sum and sum of squares.
    meat = [[0.0] * len(names) for _ in names]
    for columns, group in active:
        mu = math.exp(_bounded(sum(beta[c] for c in columns)))
        squared = group.squares / scale**2 - 2 * mu * group.total / scale + group.n * mu * mu
        for a in columns:
            for b in columns:
                meat[a][b] += squared
    size = len(names)
    half = [[sum(inverse[i][k] * meat[k][j] for k in range(size)) for j in range(size)] for i in range(size)]
    variance = [sum(half[i][k] * inverse[k][i] for k in range(size)) for i in range(size)]
    return [
        Coefficient(feature=name, log_odds=beta[i], standard_error=math.sqrt(max(variance[i], 0.0)))
        for i, name in enumerate(names)
        if i > 0
    ]
