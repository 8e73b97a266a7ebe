"""Checks on data: what a ``validate`` step holds, how each becomes one query, how it is judged.

``model`` is what a manifest writes (validated at plan time), ``queries`` turns a check into
SQL for one dialect (names quoted by the dialect, values quoted as literals, the user's own
``where`` and ``expression`` kept as the SQL they are), ``judging`` turns counts into an
outcome under the check's thresholds and severity, and ``running`` does it on a connection.
"""
