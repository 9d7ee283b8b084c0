"""The contacts a Pulse account holds, and how they change over virtual time.

A directory of ``size`` contacts is a pure function of ``(seed, now)``:

- Each contact's *profile* (name, email, phone, company, title, created_at, …) is drawn
  with Faker, reseeded per contact from ``(seed, index)``, on first access only, so a
  directory of thousands costs nothing until a sync reads it.
- Its *history* is a version number and an ``updated_at``: at virtual time 0 every
  contact was last touched some time between its creation and 0. After that, updates
  arrive as a Poisson process of ``size / update_interval`` updates per second over the
  whole directory. Time is cut into hour-long buckets; the updates of bucket ``b`` (how
  many, which contact, which millisecond) come from a generator seeded by ``(seed, b)``,
  so they are the same whether the clock is read every second or once a day.
- Version ``k`` of a contact is its profile plus fields drawn from ``(seed, index, k)``
  (tags, lead score, newsletter opt-in) and fields derived from ``k`` (lifecycle stage
  moves forward every second update, owner changes every third).

``advance(ms)`` applies every update due by then; the arrays ``updated_ms`` and
``version`` are the state listing and paging read.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np
from faker import Faker

from fakes.pulse.models import Contact, stream

STAGES = ("subscriber", "lead", "marketing_qualified_lead", "sales_qualified_lead",
          "opportunity", "customer", "evangelist")
TAGS = ("vip", "newsletter", "webinar-2025", "partner", "trial", "churn-risk", "enterprise",
        "smb", "event-lead", "referral")
OWNERS = tuple(f"usr_{n:03d}" for n in range(1, 9))
REGIONS = ("NA", "EMEA", "APAC", "LATAM")
SOURCES = ("website", "import", "event", "referral", "api")
BUCKET_MS = 3_600_000
DAY_MS = 86_400_000
MAX_CONTACTS = 999_999  # ids are pc_ + six digits, so id order is index order
_ID = re.compile(r"pc_(\d{6})")
_NOT_DOMAIN = {"and", "group", "inc", "llc", "ltd", "plc", "sons"}


@dataclass(frozen=True)
class Profile:
    """The fields of a contact that never change."""

    first_name: str
    last_name: str
    email: str
    phone: str
    company: str
    title: str
    stage: int
    owner: int
    region: str
    source: str


def id_of(index: int) -> str:
    """The contact id of directory index ``index``: ``pc_`` and six digits, from 1."""
    return f"pc_{index + 1:06d}"


class ContactDirectory:
    """``size`` contacts of one seed; raises ValueError on a size or interval out of range."""

    def __init__(self, seed: int, size: int, update_interval: float,
                 faker: Faker | None = None) -> None:
        if not 1 <= size <= MAX_CONTACTS:
            raise ValueError(f"contacts must be in 1..{MAX_CONTACTS}, got {size}")
        if not update_interval > 0:
            raise ValueError("update_interval must be > 0 seconds")
        self.seed, self.size, self.update_interval = seed, size, float(update_interval)
        self._faker = faker or Faker("en_US")
        self._profiles: dict[int, Profile] = {}
        self._bucket_cache: tuple[int, np.ndarray, np.ndarray] | None = None
        self._initial_history()

    def _initial_history(self) -> None:
        rng = stream(self.seed, "contacts.history")
        self.created_ms = -rng.integers(DAY_MS, 730 * DAY_MS, size=self.size, dtype=np.int64)
        touched = (rng.random(self.size) * -self.created_ms).astype(np.int64)
        self.version = rng.integers(0, 4, size=self.size, dtype=np.int64)
        self.updated_ms = np.where(self.version > 0, self.created_ms + touched, self.created_ms)
        self.applied_ms = 0
        self.updates_applied = 0

    # ---- history -------------------------------------------------------------------

    def advance(self, until_ms: int) -> None:
        """Apply every update at ``applied_ms < t <= until_ms``; time never runs back."""
        if until_ms <= self.applied_ms:
            return
        for bucket in range(self.applied_ms // BUCKET_MS, until_ms // BUCKET_MS + 1):
            times, who = self._bucket(bucket)
            due = (times > self.applied_ms) & (times <= until_ms)
            np.add.at(self.version, who[due], 1)
            np.maximum.at(self.updated_ms, who[due], times[due])
            self.updates_applied += int(due.sum())
        self.applied_ms = until_ms

    def _bucket(self, bucket: int) -> tuple[np.ndarray, np.ndarray]:
        """(times, contact indices) of the updates in ``[b, b+1)`` hours."""
        if self._bucket_cache is not None and self._bucket_cache[0] == bucket:
            return self._bucket_cache[1], self._bucket_cache[2]
        rng = stream(self.seed, "contacts.updates", bucket)
        count = rng.poisson(self.size * BUCKET_MS / (self.update_interval * 1000.0))
        times = bucket * BUCKET_MS + rng.integers(0, BUCKET_MS, size=count, dtype=np.int64)
        who = rng.integers(0, self.size, size=count, dtype=np.int64)
        self._bucket_cache = (bucket, times, who)
        return times, who

    # ---- records -------------------------------------------------------------------

    def index_of(self, contact_id: str) -> int | None:
        """The index of ``pc_000123``-style id, or None when no such contact exists."""
        match = _ID.fullmatch(contact_id)
        index = int(match.group(1)) - 1 if match else -1
        return index if 0 <= index < self.size else None

    def contact(self, index: int) -> Contact:
        """The contact at ``index`` as it stands after the last ``advance``."""
        p = self._profile(index)
        k = int(self.version[index])
        rng = stream(self.seed, "contacts.version", index, k)
        tags = tuple(sorted(TAGS[i] for i in rng.choice(len(TAGS), size=int(rng.integers(0, 4)),
                                                        replace=False)))
        custom = {"lead_score": int(rng.integers(0, 101)), "region": p.region,
                  "source": p.source, "newsletter_opt_in": bool(rng.random() < 0.4)}
        return Contact(id_of(index), p.first_name, p.last_name, p.email, p.phone,
                       p.company, p.title, tags, OWNERS[(p.owner + k // 3) % len(OWNERS)],
                       int(self.created_ms[index]), int(self.updated_ms[index]),
                       STAGES[min(p.stage + k // 2, len(STAGES) - 1)], custom)

    def _profile(self, index: int) -> Profile:
        if index not in self._profiles:
            self._profiles[index] = self._draw_profile(index)
        return self._profiles[index]

    def _draw_profile(self, index: int) -> Profile:
        fake = self._faker
        digest = hashlib.sha256(f"pulse.contact:{self.seed}:{index}".encode()).digest()
        fake.seed_instance(int.from_bytes(digest[:8], "little"))
        first, last, company = fake.first_name(), fake.last_name(), fake.company()
        title, phone = fake.job(), fake.phone_number()
        personal = fake.random.random() < 0.2  # some people sign up with a webmail address
        domain = fake.free_email_domain() if personal else _company_domain(company)
        local = ".".join(re.sub(r"[^a-z0-9]", "", n.lower()) for n in (first, last))
        return Profile(first, last, f"{local}@{domain}", phone, company, title,
                       stage=fake.random.randrange(4), owner=fake.random.randrange(len(OWNERS)),
                       region=fake.random.choice(REGIONS), source=fake.random.choice(SOURCES))


def _company_domain(company: str) -> str:
    words = [w for w in re.findall(r"[a-z0-9]+", company.lower()) if w not in _NOT_DOMAIN]
    return "".join(words[:2] or ["example"]) + ".com"
