"""ROC curve, AUC, background rejection and the overtraining test.

Conventions follow the HEP literature rather than the ML one: the x axis is the
signal efficiency eff_s (true-positive rate) and the y axis the background
efficiency eff_b (false-positive rate), shown either as the background rejection
1 - eff_b (TMVA users guide, arXiv:physics/0703039) or as 1 / eff_b (the "rejection"
of ATLAS and CMS flavour tagging, e.g. arXiv:1512.01094). Event weights are honoured
throughout, negative ones included. The curve itself comes from scikit-learn; only
its thinning to about a thousand points for the browser is done here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from hepviz.errors import ConfigError, DatasetError

logger = logging.getLogger(__name__)


@dataclass
class RocCurve:
    """Operating points ordered by rising signal efficiency, and the full-curve AUC."""

    signal_eff: np.ndarray
    background_eff: np.ndarray
    thresholds: np.ndarray
    auc: float

    @property
    def background_rejection(self) -> np.ndarray:
        """1 - eff_b (TMVA convention)."""
        return 1.0 - self.background_eff

    @property
    def inverse_background_eff(self) -> np.ndarray:
        """1 / eff_b (tagging convention); inf where no background passes."""
        with np.errstate(divide="ignore"):
            return 1.0 / self.background_eff


def _check(y, score, weight) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    y = np.asarray(y)
    score = np.asarray(score, dtype=np.float64)
    if y.shape != score.shape or y.ndim != 1:
        raise DatasetError(
            f"Labels and scores must be 1-D arrays of one length; got shapes "
            f"{y.shape} and {score.shape}."
        )
    if weight is not None:
        weight = np.asarray(weight, dtype=np.float64)
        if weight.shape != y.shape:
            raise DatasetError(
                f"Expected one weight per event ({y.shape[0]}); got {weight.shape}."
            )
    present = set(np.unique(y).tolist())
    if present != {0, 1}:
        raise DatasetError(
            f"A ROC curve needs signal (1) and background (0) events; found labels "
            f"{sorted(present)}. Evaluate on a split that holds both classes."
        )
    if not np.all(np.isfinite(score)):
        raise DatasetError(
            "Some classifier scores are NaN or infinite; the model diverged. "
            "Retrain with a lower learning rate."
        )
    return y, score, weight


def _area(fpr: np.ndarray, tpr: np.ndarray) -> float:
    from sklearn.metrics import auc

    if np.all(np.diff(fpr) >= 0):
        return float(auc(fpr, tpr))
    # Negative weights can make the cumulative rates step back; sklearn's auc then
    # refuses, but the trapezoid integral it would take is still the weighted AUC.
    return float(np.trapezoid(tpr, fpr))


def weighted_auc(y, score, weight=None) -> float:
    """Area under the ROC curve with event weights (negative weights allowed)."""
    from sklearn.metrics import roc_curve as sk_roc_curve

    y, score, weight = _check(y, score, weight)
    fpr, tpr, _ = sk_roc_curve(y, score, sample_weight=weight)
    return _area(fpr, tpr)


def roc_curve(y, score, weight=None, n_points: int = 1000) -> RocCurve:
    """Weighted ROC curve thinned to at most about ``n_points`` operating points.

    The AUC is taken on scikit-learn's full curve. The kept points are real
    operating points: for each step of 1 / n_points in signal efficiency, the first
    threshold that reaches it (the lowest background efficiency at that signal
    efficiency), plus both end points.
    """
    from sklearn.metrics import roc_curve as sk_roc_curve

    if n_points < 2:
        raise ConfigError(f"A ROC curve needs n_points >= 2; got {n_points}.")
    y, score, weight = _check(y, score, weight)
    fpr, tpr, thr = sk_roc_curve(y, score, sample_weight=weight)
    area = _area(fpr, tpr)
    thr = np.where(np.isinf(thr), np.nextafter(score.max(), np.inf), thr)

    if len(tpr) > n_points:
        reach = np.maximum.accumulate(tpr)  # monotone even with negative weights
        grid = np.linspace(0.0, reach[-1], n_points - 1)
        idx = np.searchsorted(reach, grid, side="left")
        idx = np.unique(np.concatenate([idx, [len(tpr) - 1]]))
        fpr, tpr, thr = fpr[idx], tpr[idx], thr[idx]
    return RocCurve(signal_eff=tpr, background_eff=fpr, thresholds=thr, auc=area)


def background_rejection_at(
    roc: RocCurve, signal_eff: float, convention: str = "inverse"
) -> float:
    """Background rejection at a working point, linear between operating points.

    Args:
        roc: a curve from roc_curve.
        signal_eff: the working point, in (0, 1].
        convention: "inverse" gives 1 / eff_b (inf when no background passes),
            "complement" gives 1 - eff_b.
    """
    if not 0.0 < signal_eff <= 1.0:
        raise ConfigError(
            f"Signal efficiency must be in (0, 1]; got {signal_eff}. "
            "Typical working points are 0.5, 0.7 or 0.9."
        )
    reach = np.maximum.accumulate(roc.signal_eff)
    eff_b = float(np.interp(signal_eff, reach, roc.background_eff))
    if convention == "complement":
        return 1.0 - eff_b
    if convention == "inverse":
        return float("inf") if eff_b <= 0 else 1.0 / eff_b
    raise ConfigError(
        f"Unknown convention '{convention}'. Choose 'inverse' or 'complement'."
    )


def overtraining_test(score_train, y_train, score_test, y_test) -> dict:
    """Kolmogorov-Smirnov test of train against test scores, per class.

    A small p-value (say below 0.05) means the score distributions differ between
    the training and test events: the network has learned its training sample by
    heart. As in TMVA, the test is unweighted (scipy's ks_2samp has no weights).

    Returns:
        {"signal_ks", "signal_p_value", "background_ks", "background_p_value"}.
    """
    from scipy.stats import ks_2samp

    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    score_train, score_test = np.asarray(score_train), np.asarray(score_test)
    result = {}
    for label, name in ((1, "signal"), (0, "background")):
        a, b = score_train[y_train == label], score_test[y_test == label]
        if len(a) == 0 or len(b) == 0:
            raise DatasetError(
                f"The overtraining test needs {name} events in both the training "
                f"and the test split; found {len(a)} and {len(b)}."
            )
        test = ks_2samp(a, b)
        result[f"{name}_ks"] = float(test.statistic)
        result[f"{name}_p_value"] = float(test.pvalue)
    return result
