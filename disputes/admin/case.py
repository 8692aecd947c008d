"""The claim page's case (selectors.claim_case_get(): the dispute, its claim and nine lists) kept
per process in the `fragments` cache, under the case's version read by one small query on every
request; the accounts the case names are read as they are now on every request (their rows,
selectors.case_people_rows()), and a case kept with other rows of them is read again.

The version is what changes whenever anything the case holds changes: the dispute's, the claim's
and the order's `updated_at` (every service saves them with their changes), the store's name and
owner, and for each list the case reads its newest primary key, its row count and the moments its
rows change at (an offer's answer, an evidence request's answers and closing, the appeal). Every
change a service makes to a dispute also writes a DisputeEvent, so the newest event's key moves
with it as well. The policy panel's versions and the exchange rate are read by the same query, with
the same expressions claim_case_get() reads them with (selectors.claim_case_annotations()), and set
on the kept dispute.

A kept case is model instances pickled by the local-memory cache (supported by Django within one
version; a new release starts new processes with an empty cache)."""

from collections.abc import Hashable
from typing import Any

from django.core.cache import caches
from django.http import Http404

from accounts.models import User
from core.fragments import FRAGMENT_CACHE, digest

from .. import selectors
from ..models import Dispute

# The annotations claim_case_get() reads with the dispute, refreshed on a kept one.
FOLDED = tuple(selectors.claim_case_annotations())


def case_get(*, user: User, claim_pk: int) -> tuple[Dispute, str]:
    """selectors.claim_case_get(): the same dispute and lists, from this process's cache when
    its version is the one read now and the accounts it names are as they were when it was kept;
    404 as there. With it, a key naming everything the case shows: its version, the exchange rate,
    and the accounts it names."""
    try:
        row = selectors.claim_case_version_row(user=user, claim_pk=claim_pk)
    except Dispute.DoesNotExist:
        raise Http404 from None
    version: tuple[Hashable, ...] = tuple(str(value) for name, value in row.items() if name not in FOLDED)
    key = f"claim-case:{claim_pk}:{hash(version)}"
    cache = caches[FRAGMENT_CACHE]
    kept = cache.get(key)
    people: list[tuple[Any, ...]] | None = None
    if isinstance(kept, tuple) and kept[0] == version:
        # The accounts the kept case names, read as they are now: the same rows, the same case.
        people = selectors.case_people_rows(kept[2])
        if people != kept[3]:
            people = None
    if people is not None:
        dispute: Dispute = kept[1]
        for name in FOLDED:
            setattr(dispute, name, row[name])
    else:
        dispute = selectors.claim_case_get(user=user, claim_pk=claim_pk)
        ids = selectors.case_people_ids(dispute)
        people = selectors.case_people_rows(ids)
        cache.set(key, (version, dispute, ids, people))
    shown = (version, row["rate_pk"], str(row["rate_rub_per_unit"]), str(row["rate_as_of"]), people)
    return dispute, digest(shown)
