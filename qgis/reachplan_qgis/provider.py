"""The reachplan Processing provider: its algorithms, and whether it can run."""

from __future__ import annotations

from qgis.core import QgsProcessingProvider

from .algorithms import ALGORITHMS
from .requirements import missing


class ReachplanProvider(QgsProcessingProvider):
    def id(self) -> str:
        return "reachplan"

    def name(self) -> str:
        return "reachplan"

    def longName(self) -> str:
        return "reachplan: coverage planning for service networks"

    def loadAlgorithms(self) -> None:
        for algorithm in ALGORITHMS:
            self.addAlgorithm(algorithm())

    def canBeActivated(self) -> bool:
        return missing() is None

    def warningMessage(self) -> str:
        return missing() or ""
