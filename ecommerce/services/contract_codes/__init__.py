"""The one door in ecommerce for a B2B contract's codes: what b2b may read and write of them.

``reads`` (counts, the census, whether a code is redeemed, held or in a pending order, the
health report's tallies), ``rows`` (the codes one by one, for the CSV), ``bulk``
(reconciliation's set-based statements) and ``invitations`` (the codes invitations set aside)
are the whole door (the import contract in pyproject.toml lists them); ``creation`` is what a
new code of a contract is, shared by ``bulk`` and ``invitations``. Contracts and products are
passed as ids and plain values.
"""
