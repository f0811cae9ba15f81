"""The Sandbox: one college, its 14 subsystems, the clock, faults and the ground truth."""

from __future__ import annotations

import copy
import datetime as dt
import os
import threading
from collections import OrderedDict

from .college import College
from .domains.base import Context, Domain
from .faults import Faults
from .registry import DOMAINS, NAMES
from .spec import Spec, Vendor, catalog_entry
from .store import Key, Rows, Store, View
from .timefmt import TZ, bound, day_start

DEFAULT_NOISE = {"name_variant": 0.01, "stale_major_code": 0.03, "missing_mapping": 0.01}


class Sandbox:
    """A simulated college whose history runs up to ``now = start + days`` (00:00 +08:00)."""

    def __init__(
        self,
        seed: int = 2026,
        scale: int = 10000,
        start: str = "2026-09-01",
        days: int = 21,
        faults: dict | None = None,
        identity_noise: dict | None = None,
        profile: str = "clean",
    ):
        if not 200 <= scale <= 50_000:
            raise ValueError("scale（在校生人数）应在 200 到 50000 之间")
        from .profiles import profile as find_profile

        chosen = find_profile(profile)
        self.profile = profile
        faults = chosen.faults | (faults or {})
        identity_noise = chosen.identity_noise | (identity_noise or {})
        self.seed = seed
        self.scale = scale
        self.start = dt.date.fromisoformat(start) if isinstance(start, str) else start
        noise = DEFAULT_NOISE | (identity_noise or {})
        self.college = College(seed, scale, self.start, noise)
        self.faults = Faults(seed, faults)
        self._ctx = Context(seed, self.college, Store(), self.start)
        self.domains: dict[str, Domain] = {}
        for cls in DOMAINS:
            self.domains[cls.subsystem] = cls(self._ctx)
        self._ctx.domains = self.domains
        for domain in self.domains.values():
            domain.build()
        self._next_day = self.start
        self.late: dict | None = None
        self.conflict = chosen.conflict
        self._lock = threading.RLock()
        self._views: dict[tuple[str, str], tuple[int, View]] = {}
        self._windows: OrderedDict = OrderedDict()
        self.version = 0
        self.advance(days, _initial=True)
        if chosen.late:
            self.set_late(chosen.late["subsystem"], chosen.late["days"])

    # ---- the clock ------------------------------------------------------------------

    @property
    def now(self) -> dt.datetime:
        return dt.datetime.combine(self._next_day, dt.time(), TZ)

    @property
    def now_ts(self) -> int:
        return day_start(self._next_day)

    def advance(self, days: int, _initial: bool = False) -> None:
        """Move *now* forward by whole days, generating each day's new and changed records."""
        if days < 0 or (days == 0 and not _initial):
            raise ValueError("days 必须为正整数")
        with self._lock:
            for _ in range(days):
                for domain in self.domains.values():
                    domain.day(self._next_day)
                self._next_day += dt.timedelta(days=1)
            self._invalidate()

    def backup(self) -> dict:
        """Keep a copy of the college as it is now, for `restore` (one backup at a time).

        Every view is built first: card transactions are generated on first use, and what the
        backup holds must not be generated again after a restore (from the other branch).
        Switching record faults after a restore regenerates them (from the new branch) all the
        same: set the faults before the backup.
        """
        self.warm()
        with self._lock:
            self._backup = copy.deepcopy((self.college, self._ctx, self.domains, self._next_day))
        return self.health()

    def restore(self) -> dict:
        """The source restored from its backup: *now* goes back to the backup's day.

        What happened since the backup is lost, and the days after the restore are not a replay
        of it: each restore draws the college's activity from another branch of the seed, so new
        records can reuse the lost ones' keys (sequences restored) with other content.
        """
        with self._lock:
            if getattr(self, "_backup", None) is None:
                raise ValueError("没有可恢复的备份：请先 POST /_admin/clock/backup")
            self.college, self._ctx, self.domains, self._next_day = copy.deepcopy(self._backup)
            self.restores = getattr(self, "restores", 0) + 1
            for domain in self.domains.values():
                domain.seed = f"{self.seed}~restore{self.restores}"
            self._invalidate()
        return self.health()

    def warm(self) -> None:
        """Build every view now, so the first requests are as fast as the later ones."""
        for subsystem, domain in self.domains.items():
            for spec in domain.specs:
                self.rows(subsystem, spec.resource)

    # ---- faults ---------------------------------------------------------------------

    def set_faults(self, values: dict) -> dict:
        with self._lock:
            if self.faults.update(values):
                self._invalidate()
        return dict(self.faults.rates)

    # ---- the late system ------------------------------------------------------------

    def set_late(self, subsystem: str | None, days: int = 1) -> dict:
        """`subsystem` has missed its deadline: its API answers 503 until the clock has moved
        on `days` days. None clears it."""
        if subsystem is not None and subsystem not in self.domains:
            raise KeyError(f"未知的子系统: {subsystem}")
        with self._lock:
            self.late = (
                None
                if subsystem is None
                else {
                    "subsystem": subsystem,
                    "until": (self._next_day + dt.timedelta(days=int(days))).isoformat(),
                }
            )
        return {"late": self.late}

    def is_late(self, subsystem: str) -> bool:
        late = self.late
        return (
            bool(late)
            and late["subsystem"] == subsystem
            and (self._next_day.isoformat() < late["until"])
        )

    def _invalidate(self) -> None:
        self.version += 1
        self._views.clear()
        self._windows.clear()

    # ---- lookups --------------------------------------------------------------------

    def spec(self, subsystem: str, resource: str) -> Spec:
        domain = self.domains.get(subsystem)
        if domain is None or resource not in domain.spec:
            raise KeyError(f"未知的资源: {subsystem}/{resource}")
        return domain.spec[resource]

    def vendor(self, subsystem: str) -> Vendor:
        return self.domains[subsystem].vendor

    def view(self, subsystem: str, resource: str) -> View:
        spec = self.spec(subsystem, resource)
        cached = self._views.get(spec.name)
        if cached and cached[0] == self.version:
            return cached[1]
        with self._lock:
            domain = self.domains[subsystem]
            view = domain.custom_view(spec, self) or View(
                spec, domain.vendor, self._ctx.store.table(spec), self.faults
            )
            c = self.conflict
            if c and (c["subsystem"], c["resource"]) == (subsystem, resource):
                view.second_version(self.seed, c["field"], c["value"])
            self._views[spec.name] = (self.version, view)
            return view

    def rows(
        self,
        subsystem: str,
        resource: str,
        lo: int | None = None,
        hi: int | None = None,
        filters: tuple = (),
    ) -> Rows:
        """Served rows with cursor in [lo, hi) and the given (field, value) filters."""
        cache_key = (subsystem, resource, lo, hi, filters, self.version)
        rows = self._windows.get(cache_key)
        if rows is not None:
            return rows
        rows = self.view(subsystem, resource).window(lo, hi)
        for name, value in filters:
            rows = rows.filter(lambda r, n=name, v=value: r.get(n) == v)
        with self._lock:
            self._windows[cache_key] = rows
            while len(self._windows) > 32:
                self._windows.popitem(last=False)
        return rows

    # ---- the Python API -------------------------------------------------------------

    def catalog(self) -> dict:
        return {
            subsystem: {
                "name": NAMES[subsystem],
                "vendor": domain.vendor.name,
                "resources": {
                    spec.resource: catalog_entry(spec, domain.vendor) for spec in domain.specs
                },
            }
            for subsystem, domain in self.domains.items()
        }

    def truth(self, subsystem: str, resource: str, since=None, until=None) -> dict[Key, dict]:
        """Records exactly as the API serves them now, keyed by the sandbox's record key."""
        return dict(self.rows(subsystem, resource, bound(since), bound(until)).items())

    def defects(self, subsystem: str, resource: str) -> list[dict]:
        return list(self.view(subsystem, resource).defects)

    @staticmethod
    def credentials(subsystem: str) -> tuple[str, str]:
        """A subsystem's app key and secret; static because clients need them without a college."""
        if subsystem not in NAMES:
            raise KeyError(f"未知的子系统: {subsystem}")
        env = subsystem.upper()
        return (
            os.environ.get(f"SANDBOX_{env}_KEY", f"{subsystem}-demo-key"),
            os.environ.get(f"SANDBOX_{env}_SECRET", f"{subsystem}-demo-secret"),
        )

    def spec_any(self, subsystem: str) -> Domain:
        if subsystem not in self.domains:
            raise KeyError(f"未知的子系统: {subsystem}")
        return self.domains[subsystem]

    def noise(self) -> list[dict]:
        return list(self.college.noise_log.values())

    def health(self) -> dict:
        return {
            "status": "ok",
            "now": self.now.isoformat(),
            "seed": self.seed,
            "scale": self.scale,
            "start": self.start.isoformat(),
        }
