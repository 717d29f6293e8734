"""The plugin QGIS loads: it registers the provider (also headless, in qgis_process)."""

from __future__ import annotations

from typing import Any

from qgis.core import QgsApplication

from .provider import ReachplanProvider


class ReachplanPlugin:
    def __init__(self, iface: Any) -> None:
        self.iface = iface
        self.provider: ReachplanProvider | None = None

    def initProcessing(self) -> None:
        self.provider = ReachplanProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:
        self.initProcessing()

    def unload(self) -> None:
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
